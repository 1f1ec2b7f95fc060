"""Which header a raw log's lines have: a known loghub format, an inferred timestamp prefix, or none.

A user's ``server.log`` comes with no system name. ``log_format="auto"`` reads its first
lines (``PROBE_LINES``) and tries, in order:

1. every known loghub format (``LOG_FORMATS``): a line counts for a format when the format
   splits it *and* the fields are plausible (the time fields parse to a timestamp, a level is
   a word, a label is ``-`` or an alert category, process ids are numbers); the format that
   explains the largest share wins (ties: the one with more fields, then the name), if that
   share is at least ``MIN_SHARE``. The format strings split a line into as many
   whitespace-separated fields as they have, so the plausibility checks are what tell BGL's
   ten fields from any ten words;
2. a generic timestamp prefix (``INFERRED``: ISO 8601, ``yy/mm/dd``, syslog's ``Jan 01``,
   a bracketed time, epoch seconds, HDFS's ``yymmdd hhmmss``): the timestamp is the header,
   everything after it the content;
3. none: the whole line is the content.

The choice and the share of lines it explains are said (``Header.describe``), and
``log_format`` overrides it: a format string with ``<Content>``, a system name (``HDFS``),
``infer`` (step 2 only) or ``none``. Lines the chosen header does not fit keep their whole
text as content and are counted (``lines_unmatched_header``).

The inferred patterns run on Python's ``re``: each is anchored, its repeats are bounded or
followed by a literal that cannot overlap them, so a line costs time linear in its length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omniad.errors import ConfigError
from omniad_logs.datasets.reading import line_timestamp, parse_time

#: lines read to choose a header
PROBE_LINES = 200
#: least share of the probed lines a header must explain to be chosen
MIN_SHARE = 0.5
AUTO, INFER, NONE = "auto", "infer", "none"
INFER_PREFIX = "infer:"

_TIME_FIELDS = frozenset({"Timestamp", "Date", "Time", "Month", "Day"})
_LEVEL = re.compile(r"[A-Za-z]{1,12}\Z")
_LABEL = re.compile(r"-\Z|[A-Z][A-Z0-9_]*\Z")
_NUMBER = re.compile(r"\d{1,12}\Z")


def _iso(text: str) -> float:
    t = text.replace(",", ".").replace("Z", "+00:00")
    if len(t) > 10 and t[10] == " ":
        t = t[:10] + "T" + t[11:]
    when = datetime.fromisoformat(t)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _strptime(fmt: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        return parse_time(text, fmt).replace(tzinfo=UTC).timestamp()
    return parse


def _bracketed(text: str) -> float:
    for fmt in ("%a %b %d %H:%M:%S %Y", "%d/%b/%Y:%H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S,%f", "%m.%d %H:%M:%S"):
        try:
            when = parse_time(text, fmt)
        except ValueError:
            continue
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return _iso(text)


#: generic timestamp prefixes: name -> (pattern with groups ts and content, timestamp parser)
INFERRED: dict[str, tuple[re.Pattern[str], Callable[[str], float]]] = {
    "iso": (re.compile(r"\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\]?"
                       r"(?:\s+(?P<content>.*))?\Z"), _iso),
    "slash": (re.compile(r"(?P<ts>\d{2,4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2})(?:[.,]\d{1,9})?(?:\s+(?P<content>.*))?\Z"),
              lambda t: _strptime("%Y/%m/%d %H:%M:%S" if len(t.split("/")[0]) == 4 else "%y/%m/%d %H:%M:%S")(
                  t.replace("T", " "))),
    "syslog": (re.compile(r"(?P<ts>[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2})(?:\s+(?P<content>.*))?\Z"),
               lambda t: _strptime("%b %d %H:%M:%S")(" ".join(t.split()))),
    "bracket": (re.compile(r"\[(?P<ts>[^\[\]]{8,40})\](?:\s*(?P<content>.*))?\Z"), _bracketed),
    "epoch": (re.compile(r"(?P<ts>\d{10}(?:\.\d{1,9})?)(?:\s+(?P<content>.*))?\Z"), float),
    "compact": (re.compile(r"(?P<ts>\d{6} \d{6})(?:\s+(?P<content>.*))?\Z"), _strptime("%y%m%d %H%M%S")),
}


def _plausible(fields: dict[str, str], names: Sequence[str]) -> bool:
    """Whether a format's fields look like what their names say (see the module docstring)."""
    if any(n in _TIME_FIELDS for n in names) and line_timestamp(fields) != line_timestamp(fields):  # NaN
        return False
    for name in names:
        value = fields.get(name, "")
        if name == "Level" and not _LEVEL.match(value):
            return False
        if name == "Label" and not _LABEL.match(value):
            return False
        if name in ("Pid", "PID", "Tid") and value and not _NUMBER.match(value):
            return False
    return True


@dataclass(frozen=True)
class Header:
    """A chosen header rule: ``spec`` (what ``log_format`` would say to get it again) and how it splits."""

    spec: str
    name: str
    matched: int = 0
    probed: int = 0
    how: str = "chosen"

    @property
    def fmt(self) -> str | None:
        """The loghub format string, for known formats and explicit ones (None for inferred / none)."""
        return None if self.spec in (NONE,) or self.spec.startswith(INFER_PREFIX) else self.spec

    @property
    def labelled(self) -> bool:
        """Lines carry a label as their first field (BGL, Thunderbird)."""
        return self.fmt is not None and self.fmt.lstrip().startswith("<Label>")

    def describe(self) -> str:
        share = f" (matched {self.matched} of {self.probed} probed lines, {self.matched / self.probed:.0%})" \
            if self.probed else ""
        return f"header format {self.name}{share}, {self.how}"

    def parser(self, only: Iterable[str] | None = None) -> Callable[[str], dict[str, str] | None]:
        """line -> header fields with ``Content`` (and a ``Timestamp`` where inferred), or None.

        ``only``: the fields the caller reads; a loghub format then decodes just those.
        """
        if self.spec == NONE:
            return lambda line: {"Content": line.strip()}
        if self.spec.startswith(INFER_PREFIX):
            return _inferred_parser(self.spec[len(INFER_PREFIX):])
        from omniad_logs.parsing import LogFormat

        fmt = LogFormat(self.spec)
        return fmt.parse if only is None else fmt.reader(only)


def _inferred_parser(kind: str) -> Callable[[str], dict[str, str] | None]:
    if kind not in INFERRED:
        raise ConfigError(f"log_format 'infer:{kind}' is unknown; use one of "
                          f"{', '.join(INFER_PREFIX + k for k in INFERRED)}, 'infer' or 'auto'")
    pattern, to_time = INFERRED[kind]

    def parse(line: str) -> dict[str, str] | None:
        match = pattern.match(line.strip())
        if match is None:
            return None
        try:
            stamp = float(to_time(match.group("ts")))
        except (ValueError, OverflowError):
            return None
        return {"Time": match.group("ts"), "Timestamp": repr(stamp), "Content": match.group("content") or ""}

    return parse


def _known(name: str) -> str | None:
    from omniad_logs.parsing import LOG_FORMATS

    by_lower = {k.lower(): k for k in LOG_FORMATS}
    key = by_lower.get(name.strip().lower())
    return None if key is None else LOG_FORMATS[key]


def _known_name(fmt: str) -> str:
    from omniad_logs.parsing import LOG_FORMATS

    return next((k for k, v in LOG_FORMATS.items() if v == fmt), repr(fmt))


_OPTIONAL = re.compile(r"\([^()]*\)\?")
_PLACEHOLDER = re.compile(r"<[^<>]+>")


def specificity(fmt: str) -> tuple[int, int]:
    """(literal characters every line must carry, fields): how much more a format says than "some words".

    Breaks ties between formats that explain the same lines: OpenSSH's ``sshd[<Pid>]:`` over the
    generic syslog layouts (Linux, Mac) that also split its lines, BGL's ten fields over HPC's seven.
    """
    escaped = fmt.replace("\\(", "\x01").replace("\\)", "\x02")  # literal parentheses are not groups
    required = _PLACEHOLDER.sub("", _OPTIONAL.sub("", escaped)).replace("\\", "")
    return sum(1 for c in required if not c.isspace()), len(_PLACEHOLDER.findall(fmt))


def probe_known(lines: Sequence[str]) -> list[tuple[float, tuple[int, int], str, str, int]]:
    """(share, specificity, name, format, matched) of every known format on ``lines``, best first."""
    from omniad_logs.parsing import LOG_FORMATS, LogFormat

    out = []
    for name, fmt in LOG_FORMATS.items():
        header = LogFormat(fmt)
        matched = 0
        for line in lines:
            fields = header.parse(line)
            if fields is not None and _plausible(fields, header.fields):
                matched += 1
        out.append((matched / max(len(lines), 1), specificity(fmt), name, fmt, matched))
    return sorted(out, key=lambda r: (-r[0], -r[1][0], -r[1][1], r[2]))


def probe_inferred(lines: Sequence[str]) -> list[tuple[float, str, int]]:
    """(share, kind, matched) of every generic timestamp prefix on ``lines``, best first."""
    out = []
    for kind in INFERRED:
        parse = _inferred_parser(kind)
        matched = sum(1 for line in lines if parse(line) is not None)
        out.append((matched / max(len(lines), 1), kind, matched))
    return sorted(out, key=lambda r: -r[0])


def choose(lines: Sequence[str], log_format: str | None = AUTO, *, previous: str | None = None) -> Header:
    """The header of ``lines`` as ``log_format`` asks (see the module docstring).

    ``previous``: the header chosen when the model's fit data was read; with ``auto`` it is
    kept when it still explains at least ``MIN_SHARE`` of ``lines``, so a new file of the
    same log is split exactly as the fit data was.
    """
    probe = [line for line in lines[:PROBE_LINES] if line.strip()]
    n = len(probe)
    spec = AUTO if log_format is None else str(log_format).strip()
    if spec.lower() == NONE:
        return Header(NONE, "none (whole lines are the content)", n, n, "as asked")
    if spec.lower() not in (AUTO, INFER) and not spec.startswith(INFER_PREFIX):
        fmt = _known(spec) or spec
        if "<Content>" not in fmt:
            from omniad_logs.parsing import LOG_FORMATS

            raise ConfigError(
                f"log_format {spec!r} is neither a format string with <Content> nor a known system "
                f"({', '.join(sorted(LOG_FORMATS))}); or use 'auto', 'infer' or 'none'"
            )
        return _measured(fmt, _known_name(fmt) if fmt != spec else repr(fmt), probe, "as asked")
    if spec.startswith(INFER_PREFIX):
        parse = _inferred_parser(spec[len(INFER_PREFIX):])
        return Header(spec, f"inferred timestamp prefix ({spec[len(INFER_PREFIX):]})",
                      sum(1 for x in probe if parse(x) is not None), n, "as asked")
    if previous is not None and spec.lower() == AUTO:
        kept = _measured(previous, _describe_spec(previous), probe, "as the model's fit data was read")
        if n == 0 or kept.matched / n >= MIN_SHARE:
            return kept
    if spec.lower() == AUTO:
        share, _, name, fmt, matched = probe_known(probe)[0]
        if n and share >= MIN_SHARE:
            how = "probed" if previous is None else (
                f"probed: the fit data's {_describe_spec(previous)} explains under {MIN_SHARE:.0%} of this file")
            return Header(fmt, name, matched, n, how)
    share, kind, matched = probe_inferred(probe)[0]
    if n and share >= MIN_SHARE:
        return Header(INFER_PREFIX + kind, f"inferred timestamp prefix ({kind})", matched, n,
                      "no known format fits" if spec.lower() == AUTO else "as asked")
    return Header(NONE, "none (whole lines are the content)", n, n,
                  "no known format or timestamp prefix fits" if n else "empty")


def _describe_spec(spec: str) -> str:
    if spec == NONE:
        return "none"
    if spec.startswith(INFER_PREFIX):
        return f"inferred timestamp prefix ({spec[len(INFER_PREFIX):]})"
    return _known_name(spec)


def _measured(spec: str, name: str, probe: Sequence[str], how: str) -> Header:
    parse = Header(spec, name).parser()
    return Header(spec, name, sum(1 for x in probe if parse(x) is not None), len(probe), how)


def as_json(header: Header) -> dict[str, Any]:
    return {"spec": header.spec, "name": header.name}
