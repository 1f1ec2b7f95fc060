"""loghub header formats: split a raw log line into its header fields and its message ``Content``.

The format strings are the ones of the loghub benchmark settings (``benchmark/*_benchmark.py``),
so the ``Content`` extracted here is exactly the ``Content`` column of loghub's structured CSVs
and grouping accuracy measured on it is comparable with published numbers. A format string is
literal text with ``<Field>`` placeholders; as in loghub, the literal parts are regular
expression fragments (``\\[`` for a bracket, ``(\\[<PID>\\])?`` for an optional part) and runs of
spaces match any run of whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from omniad.errors import ConfigError, DataError

#: loghub's benchmark header format per system (the 16 systems of loghub's 2k benchmark).
LOG_FORMATS: dict[str, str] = {
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Thunderbird": r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>",
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "HealthApp": r"<Time>\|<Component>\|<Pid>\|<Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "OpenSSH": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
    "Mac": r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
}

_FIELD = re.compile(r"(<[^<>]+>)")
#: what a space in a format matches: Python's ``\s+`` (every ``str.isspace`` character), spelled
#: out because RE2's ``\s`` is ASCII-only
_SPACES = "[" + "".join(
    f"\\x{ord(c):02x}" if ord(c) < 0x80 else c for c in map(chr, range(0x3001)) if c.isspace()
) + "]+"


def _compile_re2(pattern: str, where: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ConfigError(
            f"{where}: RE2 cannot run it ({why}); formats run on RE2 so that no line can take exponential "
            "time: write the literal parts without lookaround or backreferences"
        ) from None


def _public_fields(rx: Any, line: str) -> dict[str, str] | None:
    try:
        match = rx.search(line)
    except UnicodeEncodeError:  # lone surrogates, which the wrapper cannot encode: read as U+FFFD
        match = rx.search(line.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    if match is None:
        return None
    return {k: (v if v is not None else "") for k, v in match.groupdict().items()}


class _FieldReader:
    """The fields of a line through RE2's own match call: ~8 µs a line on BGL against ~40 µs through
    the wrapper's Match objects (Python's ``re`` takes ~5 µs). Group spans are byte offsets into
    the UTF-8 text and always fall on character boundaries. Where the wrapper lacks that call
    (another google-re2 version), its public API is used: same fields, slower."""

    def __init__(self, rx: Any, only: frozenset[str] | None = None) -> None:
        import re2

        self.rx = rx
        self.names = sorted(((k, v) for k, v in rx.groupindex.items() if only is None or k in only),
                            key=lambda kv: kv[1])
        self.low = getattr(rx, "_regexp", None)
        anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
        self.unanchored = getattr(anchor, "UNANCHORED", None)
        if self.unanchored is None or not hasattr(self.low, "Match"):
            self.low = None

    def __call__(self, line: str) -> dict[str, str] | None:
        if self.low is None:
            return _public_fields(self.rx, line)
        try:
            data, errors = line.encode("utf-8"), "strict"
        except UnicodeEncodeError:  # lone surrogates: carried through unchanged
            data, errors = line.encode("utf-8", "surrogatepass"), "surrogatepass"
        spans = self.low.Match(self.unanchored, data, 0, len(data))
        if spans[0][0] < 0:
            return None
        return {
            name: data[spans[i][0] : spans[i][1]].decode("utf-8", errors) if spans[i][0] >= 0 else ""
            for name, i in self.names
        }


class LogFormat:
    """A compiled loghub header format: ``LogFormat(fmt).parse(line)`` -> header fields or ``None``.

    Built like loghub's ``generate_logformat_regex`` (each field a lazy group, spaces as
    ``\\s+``, anchored at both ends) so lines split the same way as in the benchmark; the line
    is stripped first, as loghub does, so ``Content`` has no trailing whitespace.

    The regex runs on RE2, not Python's ``re``: lazy groups separated by ``\\s+`` backtrack
    combinatorially on a line that does not fit (the Linux format took 18 s on a line of 100
    short words without ``": "``, minutes at 200), and log lines are untrusted input. RE2 gives
    the same groups (leftmost-first, lazy) in time linear in the line; a format RE2 cannot run
    (lookaround, backreferences in its literal parts) is a ``ConfigError``.
    """

    def __init__(self, fmt: str) -> None:
        if not isinstance(fmt, str):
            raise ConfigError(f"LogFormat: the format must be a str such as '<Date> <Level>: <Content>', got {type(fmt).__name__}")
        parts = _FIELD.split(fmt)
        fields: list[str] = []
        pattern = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                pattern += re.sub(" +", lambda _: _SPACES, part)
            else:
                name = part.strip("<>").strip()
                if not name.isidentifier():
                    raise ConfigError(f"LogFormat {fmt!r}: field {part!r} is not a valid name; use letters, digits and _")
                if name in fields:
                    raise ConfigError(f"LogFormat {fmt!r}: field {part!r} appears twice; give each field once")
                fields.append(name)
                pattern += f"(?P<{name}>.*?)"
        if "Content" not in fields:
            raise ConfigError(f"LogFormat {fmt!r}: no <Content> field; the message text must be one of the fields")
        try:
            re.compile("^" + pattern + "$")
        except re.error as exc:
            raise ConfigError(f"LogFormat {fmt!r}: not a valid pattern ({exc}); escape literal brackets as \\[ \\]") from None
        self._regex = _compile_re2("^" + pattern + "$", f"LogFormat {fmt!r}")
        self._read = _FieldReader(self._regex)
        self.format = fmt
        self.fields: tuple[str, ...] = tuple(fields)

    def reader(self, only: Iterable[str]) -> Callable[[str], dict[str, str] | None]:
        """``parse`` that decodes only the fields named in ``only`` (and ``Content``), for a hot loop
        that needs a few (a live watch: the time fields); where RE2's own call is missing, all fields."""
        read = _FieldReader(self._regex, frozenset(only) | {"Content"})

        def parse(line: str) -> dict[str, str] | None:
            return read(line.strip())

        return parse

    def parse(self, line: str) -> dict[str, str] | None:
        """Header fields (always including ``Content``) of one raw line, or ``None`` when it does not fit."""
        if not isinstance(line, str):
            raise DataError(f"LogFormat.parse: a line must be a str, got {type(line).__name__}; decode bytes first")
        return self._read(line.strip())

    def __repr__(self) -> str:
        return f"LogFormat({self.format!r})"
