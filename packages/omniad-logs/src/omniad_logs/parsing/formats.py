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


class LogFormat:
    """A compiled loghub header format: ``LogFormat(fmt).parse(line)`` -> header fields or ``None``.

    Built like loghub's ``generate_logformat_regex`` (each field a lazy group, spaces as
    ``\\s+``, anchored at both ends) so lines split the same way as in the benchmark; the line
    is stripped first, as loghub does, so ``Content`` has no trailing whitespace.
    """

    def __init__(self, fmt: str) -> None:
        if not isinstance(fmt, str):
            raise ConfigError(f"LogFormat: the format must be a str such as '<Date> <Level>: <Content>', got {type(fmt).__name__}")
        parts = _FIELD.split(fmt)
        fields: list[str] = []
        pattern = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                pattern += re.sub(" +", r"\\s+", part)
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
            self._regex = re.compile("^" + pattern + "$")
        except re.error as exc:
            raise ConfigError(f"LogFormat {fmt!r}: not a valid pattern ({exc}); escape literal brackets as \\[ \\]") from None
        self.format = fmt
        self.fields: tuple[str, ...] = tuple(fields)

    def parse(self, line: str) -> dict[str, str] | None:
        """Header fields (always including ``Content``) of one raw line, or ``None`` when it does not fit."""
        if not isinstance(line, str):
            raise DataError(f"LogFormat.parse: a line must be a str, got {type(line).__name__}; decode bytes first")
        match = self._regex.search(line.strip())
        if match is None:
            return None
        return {k: (v if v is not None else "") for k, v in match.groupdict().items()}

    def __repr__(self) -> str:
        return f"LogFormat({self.format!r})"
