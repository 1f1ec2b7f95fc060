"""Reading raw log files: bytes to lines, with every repair counted.

Real logs are messy: a crashed writer leaves NUL padding, a Windows service writes
Latin-1, a stack trace dumps a 10 MB line. Every loader reads through ``read_lines`` so the
same rules hold everywhere and every repair shows up as a count in ``Subset.meta``
(``docs/datasets.md`` lists the keys): bytes that do not decode are replaced (U+FFFD) and
counted, NUL bytes are removed and counted, over-long lines are truncated and counted, blank
lines are skipped and counted. Nothing is dropped without a count. A file that is mostly
undecodable is not a log at all, so it is refused with a clear error instead.
"""

from __future__ import annotations

import codecs
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad.shared import SHARED_ENV, shared_data_root  # noqa: F401  (re-exported for the loaders)

#: above this share of replaced or NUL characters a file is refused as "not a text log"
MAX_GARBAGE_FRACTION = 0.3
REPLACEMENT = "\ufffd"


def require_path(path: Path | None, param: str, where: str, *, kind: str = "file or folder") -> Path:
    """The path if it exists; else a ``ConfigError`` naming the parameter and the path."""
    if path is None:
        raise ConfigError(f"{where}: parameter {param!r} is required (a {kind})")
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(
            f"{where}: {param}={str(path)!r} does not exist; point {param!r} at an existing {kind}"
        )
    return path


def check_encoding(name: str) -> str:
    """Validate a codec name early (a typo should fail at config time, not mid-file)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {name!r}; use a Python codec name such as 'utf-8' or 'latin-1'"
        ) from None


@dataclass
class ReadStats:
    """What ``read_lines`` repaired or skipped, for ``Subset.meta``."""

    lines_read: int = 0
    blank_lines_skipped: int = 0
    lines_truncated: int = 0
    lines_with_replacements: int = 0
    replacement_chars: int = 0
    nul_chars_removed: int = 0

    def as_meta(self) -> dict[str, int]:
        return dict(self.__dict__)


def read_lines(
    path: Path, where: str, *, encoding: str = "utf-8", max_line_chars: int = 100_000
) -> tuple[list[str], np.ndarray, ReadStats]:
    """The non-blank lines of a text file, their 1-based line numbers in the file, and what was repaired.

    Lines are split on ``\\n`` (a trailing ``\\r`` is stripped). Raises ``DataError`` for an
    empty file and for binary data (more than 30% of the characters undecodable or NUL).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{where}: cannot read {path} ({exc.strerror or exc})") from None
    if not raw:
        raise DataError(
            f"{where}: {path} is empty (no log lines); remove it or point the path at a non-empty log"
        )
    text = raw.decode(encoding, errors="replace")
    stats = ReadStats()
    stats.nul_chars_removed = text.count("\x00")
    replaced = text.count(REPLACEMENT)
    if codecs.lookup(encoding).name == "utf-8":  # a literal U+FFFD in the file is not a repair
        replaced = max(replaced - raw.count(REPLACEMENT.encode("utf-8")), 0)
    garbage = (stats.nul_chars_removed + replaced) / max(len(text), 1)
    if garbage > MAX_GARBAGE_FRACTION:
        raise DataError(
            f"{where}: {path} does not look like a text log ({garbage:.0%} of its characters are NUL or "
            f"not valid {encoding}); check the path, or set 'encoding' if the file is text in another encoding"
        )
    if stats.nul_chars_removed:
        text = text.replace("\x00", "")
    lines: list[str] = []
    numbers: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            stats.blank_lines_skipped += 1
            continue
        if len(line) > max_line_chars:
            line = line[:max_line_chars]
            stats.lines_truncated += 1
        if REPLACEMENT in line:
            stats.lines_with_replacements += 1
            stats.replacement_chars += line.count(REPLACEMENT)
        lines.append(line)
        numbers.append(number)
    # the split leaves one empty piece after a final newline: not a blank line of the log
    if text.endswith("\n"):
        stats.blank_lines_skipped -= 1
    stats.lines_read = len(lines)
    if not lines:
        raise DataError(f"{where}: {path} holds only blank lines; point the path at a non-empty log")
    return lines, np.asarray(numbers, dtype=np.int64), stats


@dataclass
class Counts:
    """Named counters that end up in ``Subset.meta`` (only non-zero ones are noteworthy)."""

    values: Counter[str] = field(default_factory=Counter)

    def add(self, key: str, n: int = 1) -> None:
        self.values[key] += n

    def as_meta(self) -> dict[str, int]:
        return dict(self.values)


_DATE_TIME_FORMATS = (
    ("%y%m%d %H%M%S", ("Date", "Time")),  # HDFS: 081109 203615
    ("%Y-%m-%d %H:%M:%S,%f", ("Date", "Time")),  # Hadoop, Zookeeper: 2015-10-18 18:01:47,978
    ("%Y-%m-%d %H:%M:%S.%f", ("Date", "Time")),  # OpenStack: 2017-05-16 00:00:00.008
    ("%Y-%m-%d %H:%M:%S", ("Date", "Time")),  # Windows: 2016-09-28 04:30:30
    ("%y/%m/%d %H:%M:%S", ("Date", "Time")),  # Spark: 17/06/09 20:10:40
    ("%Y-%m-%d-%H.%M.%S.%f", ("Time",)),  # BGL: 2005-06-03-15.42.50.675872
    ("%a %b %d %H:%M:%S %Y", ("Time",)),  # Apache: Sun Dec 04 04:47:44 2005
    ("%m.%d %H:%M:%S", ("Time",)),  # Proxifier: 10.30 16:49:06 (no year)
    ("%b %d %H:%M:%S", ("Month", "Date", "Time")),  # Linux, Mac: Jun 14 15:16:01 (no year)
    ("%b %d %H:%M:%S", ("Date", "Day", "Time")),  # OpenSSH: Dec 10 06:55:46 (no year)
    ("%m-%d %H:%M:%S.%f", ("Date", "Time")),  # Android: 03-17 16:13:38.811 (no year)
    ("%Y%m%d-%H:%M:%S:%f", ("Time",)),  # HealthApp: 20171223-22:15:29:606
)
#: the year a layout without one is read in (strptime's own default, spelled out: see ``parse_time``)
NO_YEAR = 1900
#: every header field ``line_timestamp`` reads
TIME_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(["Timestamp", "Time", *(k for _, ks in _DATE_TIME_FORMATS for k in ks)])
)


def parse_time(text: str, fmt: str) -> datetime:
    """``datetime.strptime``, with a layout without a year read in ``NO_YEAR`` explicitly.

    A year-less layout is parsed as ``"1900 " + text`` with ``"%Y " + fmt``: Python 3.13 warns
    on year-less ``strptime`` with a day of month and announces an error or another default
    year from 3.15, which would leave every line of Android, Linux, Mac, OpenSSH and Proxifier
    logs without a time (or move them to another year) depending on the interpreter.
    """
    if "%Y" in fmt or "%y" in fmt:
        return datetime.strptime(text, fmt)
    return datetime.strptime(f"{NO_YEAR} {text}", f"%Y {fmt}")


def line_timestamp(fields: dict[str, str]) -> float:
    """Seconds since the epoch from a line's header fields, NaN when no known field parses.

    An epoch ``Timestamp`` field wins (BGL, Thunderbird); otherwise common Date/Time
    layouts of loghub systems are tried (an all-digit ``Time`` is epoch seconds, as in HPC).
    Times without a zone are read as UTC so that windows do not shift with the machine's
    time zone; layouts without a year (syslog) land in 1900 (``NO_YEAR``), which keeps
    differences right within a year (a 29 February has no time there: counted as unreadable).
    """
    stamp = fields.get("Timestamp")
    if stamp:
        try:
            return float(stamp)
        except ValueError:
            pass
    for fmt, keys in _DATE_TIME_FORMATS:
        if not all(fields.get(k) for k in keys):
            continue
        text = " ".join(fields[k] for k in keys)
        try:
            return parse_time(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    clock = fields.get("Time", "")
    if len(clock) >= 9 and clock.isdigit():  # epoch seconds (HPC); HDFS's 203615 is a clock time
        return float(clock)
    return float("nan")


def time_text(fields: dict[str, str]) -> str:
    """The time fields a line has, as a user would quote them (``Date='03-17' Time='16:13:38.811'``); '' if none."""
    return " ".join(f"{k}={v!r}" for k, v in fields.items() if v and k in TIME_FIELDS)


@dataclass
class TimeMisses:
    """Lines whose header has time fields that ``line_timestamp`` could not read: how many, and the first."""

    lines: int = 0
    example: str = ""

    def note(self, fields: dict[str, str]) -> None:
        """Count a line without a timestamp when it has time fields (a line with none is not a miss)."""
        text = time_text(fields)
        if text:
            self.lines += 1
            self.example = self.example or text


_NORMAL = frozenset({"0", "normal", "false", "-", "no", "ok"})
_ANOMALY = frozenset({"1", "anomaly", "abnormal", "anomalous", "true", "yes"})


def parse_label(value: object) -> int | None:
    """0/1 from the usual spellings (Normal/Anomaly, 0/1, true/false, BGL's '-'); None when unrecognised."""
    text = str(value).strip().lower()
    if text in _NORMAL:
        return 0
    if text in _ANOMALY:
        return 1
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number in (0.0, 1.0) else None


#: the header a session label file must have (loghub HDFS's ``anomaly_label.csv``)
LABEL_HEADER = "BlockId,Label"


def read_label_file(path: Path, where: str, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Session id -> 0/1 from a ``BlockId,Label`` CSV (HDFS's ``anomaly_label.csv``; any id column name).

    The header must name a ``Label`` column (any case); the id is the first other column. A
    header without one is an error naming the header found and the one expected: such a file
    would otherwise be read with the wrong column as labels and fail much later (no normal
    session to train on). A value that is not a recognised label is an error naming the row; an
    id listed twice with the same label is counted (``label_rows_repeated``), with contradicting
    labels it is an error naming the ids: which label is right cannot be guessed.
    """
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        names = [h.strip().lstrip("\ufeff").lower() for h in header or ()]
        if len(names) < 2 or "label" not in names:
            found = "nothing (the file is empty)" if header is None else repr(",".join(header))[:120]
            raise DataError(
                f"{where}: label file {path} has the header {found}, expected {LABEL_HEADER!r} (a session id "
                "column and a Label column of Normal/Anomaly or 0/1); fix the header, or point 'labels' at the right file"
            )
        col = names.index("label")
        id_col = 0 if col != 0 else 1
        out: dict[str, int] = {}
        first_row: dict[str, int] = {}
        conflicts: list[tuple[str, int, int]] = []
        repeated = 0
        for row_no, row in enumerate(reader, start=2):
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) <= max(col, id_col):
                raise DataError(f"{where}: label file {path} line {row_no} has no label column: {row!r:.120}")
            label = parse_label(row[col])
            if label is None:
                raise DataError(_bad_label(path, where, row_no, row, header or [], col, id_col))
            sid = row[id_col].strip()
            if sid in out:
                if out[sid] != label:
                    conflicts.append((sid, first_row[sid], row_no))
                else:
                    repeated += 1
                continue
            out[sid] = label
            first_row[sid] = row_no
    if conflicts:
        shown = ", ".join(f"{sid} (lines {a} and {b})" for sid, a, b in conflicts[:3])
        raise DataError(
            f"{where}: label file {path} gives {len(conflicts)} session id(s) both labels, e.g. {shown}; "
            "keep one row per id with its right label"
        )
    if counts is not None:
        counts["label_rows_repeated"] = repeated
    return out


def _bad_label(
    path: Path, where: str, row_no: int, row: list[str], header: list[str], col: int, id_col: int
) -> str:
    """The error for a label value that is not a label: when the id column holds one instead, the
    header names the columns in the wrong order, and the header is what to fix, not the row."""
    found = f"label {row[col]!r:.60} (column {header[col].strip()!r})"
    if parse_label(row[id_col]) is not None:
        return (
            f"{where}: label file {path} line {row_no}: {found} is not Normal/Anomaly (or 0/1) but column "
            f"{header[id_col].strip()!r} holds {row[id_col]!r:.60}: the header {','.join(header)!r:.120} names "
            f"the columns in the wrong order; write the header as the rows are ordered, e.g. {LABEL_HEADER!r}"
        )
    return (
        f"{where}: label file {path} line {row_no}: {found} is not Normal/Anomaly (or 0/1); fix the row, "
        f"or point 'labels' at a {LABEL_HEADER} file"
    )


def read_line_labels(path: Path, where: str) -> np.ndarray:
    """The ``Label`` column of a loghub ``_structured.csv`` as 0/1 per line (BGL's '-' or 0 = normal)."""
    import csv
    import sys

    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        if "Label" not in (reader.fieldnames or ()):
            raise DataError(f"{where}: {path.name} has no Label column")
        values = [r["Label"] for r in reader]
    return np.array([0 if (v or "").strip() in ("-", "0", "") else 1 for v in values], dtype=np.int8)
