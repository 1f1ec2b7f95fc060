"""What every log dataset shares: a raw file becomes parsed lines, lines become sessions, sessions a subset.

One path for every loader (and for the synthetic generator, which writes files and reads
them back through it): ``parse_log`` reads and decodes the file (``reading``), splits each
line into header fields and content with the loghub header format, and turns contents into
event ids (omniad's ``TemplateMiner`` or the loghub ground truth); ``build_sessions`` cuts
the lines into sessions (by an id, by windows) with their labels and per-line targets;
``make_subset`` splits sessions into train/test and records every count in ``Subset.meta``.

A line whose header does not match the format is kept: its whole text becomes the content
(and is counted). Nothing is dropped without a count.
"""

from __future__ import annotations

import csv
import math
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad_logs.session import EventVocabulary, LogSession

if TYPE_CHECKING:
    from omniad.decision import Decisions
    from omniad_logs.datasets.headers import Header
    from omniad_logs.datasets.reading import TimeMisses
    from omniad_logs.parsing import TemplateMiner

#: event id of a line that has no ground-truth row in the structured CSV
NO_GROUND_TRUTH = "E?"
#: share of raw lines that must find their row in a structured CSV for it to count as that log's truth
MIN_GROUND_TRUTH_MATCH = 0.5


@dataclass
class ParsedLog:
    """The lines of one file, parsed: per-line content, event, parameters, timestamp and raw text."""

    raw: list[str]
    line_numbers: np.ndarray
    contents: list[str]
    events: list[str]
    parameters: list[tuple[str, ...]]
    timestamps: np.ndarray
    vocabulary: EventVocabulary
    counts: dict[str, int] = field(default_factory=dict)
    #: the file as the user names it (relative to the folder they gave), for ids and result tables
    file: str = ""
    #: 1 where a line's template was not known to the model's parser (scoring own data), else None
    new: np.ndarray | None = None
    #: sessions keep a reference to these lines (own data: result tables show each line's raw text);
    #: benchmarks leave it off, so a multi-GB log's raw text is freed once its sessions are built
    keep: bool = False
    #: the time fields of the first line whose header has them but no time could be read from them
    #: (``Date='17.03.2024' Time='16:13:38'``), for the error of time windows; '' when every one read
    time_example: str = ""

    def __len__(self) -> int:
        return len(self.raw)


def resolve_format(system: str | None, log_format: str | None, path: Path, where: str) -> str:
    """The loghub header format: explicit ``log_format``, else ``LOG_FORMATS[system]`` (system from the file name)."""
    if log_format is not None:
        return log_format
    from omniad_logs.parsing import LOG_FORMATS

    name = system or path.name.split("_")[0].split(".")[0]
    by_lower = {k.lower(): k for k in LOG_FORMATS}
    key = by_lower.get(name.lower())
    if key is None:
        how = "set 'system'" if system is None else "fix 'system'"
        raise ConfigError(
            f"{where}: no loghub header format for system {name!r} (from {'the file name ' + path.name if system is None else 'system'}); "
            f"{how} to one of {sorted(LOG_FORMATS)} or give 'log_format' (e.g. '<Date> <Time> <Level>: <Content>')"
        )
    return LOG_FORMATS[key]


def header_args(dataset: Any, system: str | None, log_format: str | None, path: Path, where: str) -> dict[str, Any]:
    """``parse_log``'s header arguments: a format string as given, else a header chosen and said.

    ``log_format`` may also be a system name, ``auto``, ``infer`` or ``none`` (``headers.choose``);
    without it the system's format is used (from ``system`` or the file name).
    """
    if log_format is not None and "<" not in log_format:
        from omniad_logs.datasets.own import choose_header

        return {"log_format": None, "header": choose_header(dataset, log_format, where)}
    return {"log_format": resolve_format(system, log_format, path, where), "header": None}


def list_logs(path: Path, pattern: str, param: str, where: str) -> list[Path]:
    """A file, or the sorted matches of ``pattern`` in a folder (loghub's CSV side files excluded).

    ``pattern`` may hold several globs separated by commas (``*.log,*.txt``).
    """
    if path.is_file():
        return [path]
    globs = [g.strip() for g in pattern.split(",") if g.strip()]
    files = sorted({
        p for g in globs for p in path.glob(g)
        if p.is_file() and not p.name.endswith(("_structured.csv", "_templates.csv"))
    })
    if not files:
        raise ConfigError(f"{where}: no files matching {pattern!r} in {param}={str(path)!r}; check '{param}' and 'pattern'")
    return files


def ground_truth_events(
    contents: Sequence[str], structured: Path, where: str, counts: dict[str, int]
) -> tuple[list[str], list[tuple[str, ...]], dict[str, str]]:
    """Event ids of the lines from a loghub ``_structured.csv``, aligned on the content text.

    loghub's CSV has one row per line that matched its header regex (lines that did not
    are missing from it), so rows are aligned in order by content rather than by position:
    a line whose content is not the next row's gets ``E?`` (counted). Parameters are the
    ``<*>`` slots of the template matched against the content, read by linear slicing
    (``parsing.groups.read_slots``): a template from the CSV with many ``<*>`` made the
    equivalent lazy regex backtrack for hours.
    """
    from omniad_logs.parsing.groups import read_slots

    if not structured.is_file():
        raise ConfigError(
            f"{where}: events='ground_truth' needs {structured} (loghub <log>_structured.csv); "
            "set 'structured' or use events='parse'"
        )
    csv.field_size_limit(sys.maxsize)
    with structured.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        missing = {"Content", "EventId"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{where}: {structured.name} has no column(s) {sorted(missing)}; is it a loghub _structured.csv?")
        rows = [(r["Content"] or "", r["EventId"] or NO_GROUND_TRUTH, r.get("EventTemplate") or "") for r in reader]
    events: list[str] = []
    params: list[tuple[str, ...]] = []
    templates: dict[str, str] = {}
    slots: dict[str, list[str]] = {}
    j = 0
    unmatched = 0
    for content in contents:
        if j < len(rows) and rows[j][0].strip() == content.strip():
            _, event, template = rows[j]
            j += 1
            templates.setdefault(event, template or event)
            parts = slots.get(event)
            if parts is None:
                parts = slots[event] = templates[event].split("<*>")
            values = read_slots(parts, content.strip()) if len(parts) > 1 else None
            events.append(event)
            params.append(values or ())
        else:
            unmatched += 1
            events.append(NO_GROUND_TRUTH)
            params.append(())
    if unmatched:
        templates[NO_GROUND_TRUTH] = "(line without a ground-truth row)"
    if len(contents) and unmatched / len(contents) > 1 - MIN_GROUND_TRUTH_MATCH:
        raise DataError(
            f"{where}: only {len(contents) - unmatched} of {len(contents)} lines found their row in "
            f"{structured.name}; it does not belong to this log (set 'structured' or use events='parse')"
        )
    counts["lines_without_ground_truth"] = unmatched
    counts["ground_truth_rows_unused"] = len(rows) - j
    return events, params, templates


def split_lines(raw: Sequence[str], split: Any, misses: TimeMisses | None = None) -> tuple[list[str], np.ndarray, int]:
    """Each line's message content and timestamp by a header parser; a line the header does not fit
    keeps its whole text as content (counted, returned third) and has no timestamp.

    ``misses``: where lines whose header has time fields that do not read as a time are counted
    (with the first such value), so that a format whose times are never read is said, not silent.
    """
    from omniad_logs.datasets.reading import line_timestamp

    contents: list[str] = []
    stamps = np.full(len(raw), np.nan)
    unmatched = 0
    for i, line in enumerate(raw):
        fields = split(line)
        if fields is None:
            unmatched += 1
            contents.append(line.strip())
        else:
            contents.append(fields.get("Content", ""))
            stamps[i] = line_timestamp(fields)
            if misses is not None and stamps[i] != stamps[i]:  # NaN
                misses.note(fields)
    return contents, stamps, unmatched


def parse_log(
    path: Path,
    where: str,
    *,
    log_format: str | None,
    encoding: str = "utf-8",
    max_line_chars: int = 100_000,
    events: str = "parse",
    structured: Path | None = None,
    header: Callable[[list[str]], Header] | None = None,
    miner: TemplateMiner | None = None,
    file: str = "",
) -> ParsedLog:
    """Read, decode and parse one raw log file (see the module docstring for the rules).

    ``header``: chooses the header from the lines read (``log_format="auto"``, see ``headers``),
    instead of the fixed ``log_format``; ``miner``: the template miner to continue (own data: one
    for every file of a source, and the model's at score), instead of a fresh one per file.
    """
    from omniad_logs.datasets.reading import TimeMisses, read_lines

    raw, numbers, stats = read_lines(path, where, encoding=encoding, max_line_chars=max_line_chars)
    misses = TimeMisses()
    counts = stats.as_meta()
    contents: list[str] = []
    stamps = np.full(len(raw), np.nan)
    unmatched = 0
    split: Callable[[str], dict[str, str] | None] | None = None
    if header is not None:
        chosen = header(raw)
        split = None if chosen.spec == "none" else chosen.parser()
    elif log_format is not None:
        from omniad_logs.parsing import LogFormat

        split = LogFormat(log_format).parse
    if split is None:
        contents = list(raw)
    else:
        contents, stamps, unmatched = split_lines(raw, split, misses)
    counts["lines_unmatched_header"] = unmatched
    counts["lines_without_timestamp"] = int(np.isnan(stamps).sum())
    counts["lines_time_unreadable"] = misses.lines
    if misses.lines:
        warn_time_misses(where, misses, len(raw))
    event_ids, params, templates = events_of(contents, where, events=events,
                                              structured=structured or path.with_name(path.name + "_structured.csv"),
                                              counts=counts, miner=miner)
    return ParsedLog(raw, numbers, contents, event_ids, params, stamps, EventVocabulary(templates), counts,
                     file=file or path.name, time_example=misses.example)


#: what to do about time fields that do not read (the warning and the time-window error say it)
TIME_FIX = (
    "give a log_format whose <Date>/<Time> fields hold one of the layouts read (docs/datasets.md, 'Timestamps'), "
    "or epoch seconds in a <Timestamp> field; log_format='infer' when each line starts with an ISO 8601, "
    "yy/mm/dd, syslog, bracketed or epoch time"
)


def warn_time_misses(where: str, misses: TimeMisses, n_lines: int) -> None:
    """One warning per file: its header has time fields, but (some of) their values are not times that are read."""
    warnings.warn(
        f"{where}: {misses.lines} of {n_lines} lines have header time fields that could not be read as a time "
        f"(e.g. {misses.example}), so they have no timestamp (lines_time_unreadable); time windows and the "
        f"timestamp column need them: {TIME_FIX}",
        stacklevel=3,
    )


def events_of(
    contents: Sequence[str], where: str, *, events: str, structured: Path | None, counts: dict[str, int],
    miner: TemplateMiner | None = None,
) -> tuple[list[str], list[tuple[str, ...]], dict[str, str]]:
    """Event ids, parameters and templates of message contents (mined, or loghub ground truth)."""
    if events == "ground_truth":
        if structured is None:
            raise ConfigError(f"{where}: events='ground_truth' needs 'structured' (a loghub _structured.csv)")
        return ground_truth_events(contents, structured, where, counts)
    if miner is None:
        from omniad_logs.parsing import TemplateMiner

        miner = TemplateMiner()
    results = miner.parse_batch(list(contents))
    # parse_batch gives every line its event's final template and slots (docs/parsing.md)
    ids = [r.event_id for r in results]
    params = [tuple(r.parameters) for r in results]
    templates = {r.event_id: r.template for r in results}
    return ids, params, templates


def session_of(parsed: ParsedLog, sid: str, idx: np.ndarray, extra: dict[str, Any] | None = None) -> LogSession:
    """One ``LogSession`` over the lines ``idx`` of ``parsed`` (file order), sharing its vocabulary."""
    ts = parsed.timestamps[idx]
    # the parsed file and the line indices: what the result tables name each line by (raw text, file)
    meta: dict[str, Any] = {"line_numbers": parsed.line_numbers[idx], "file": parsed.file}
    if parsed.keep:
        meta.update(index=idx, parsed=parsed)
    if parsed.new is not None:
        meta["new"] = parsed.new[idx]
    meta.update(extra or {})
    return LogSession(
        id=sid,
        events=tuple(parsed.events[i] for i in idx),
        lines=tuple(parsed.contents[i] for i in idx),
        parameters=tuple(parsed.parameters[i] for i in idx),
        timestamps=None if np.isnan(ts).all() else ts,
        vocabulary=parsed.vocabulary,
        meta=meta,
    )


@dataclass
class Sessions:
    """Sessions with their ground truth, before the train/test split."""

    sessions: list[LogSession]
    labels: np.ndarray | None
    targets: list[np.ndarray] | None
    severity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.sessions)


def build_sessions(
    parsed: ParsedLog,
    groups: Iterable[tuple[str, np.ndarray]],
    *,
    line_labels: np.ndarray | None,
    min_length: int,
    counts: dict[str, int],
) -> Sessions:
    """Sessions over index groups; a session is anomalous when any of its lines is (per-line targets)."""
    sessions: list[LogSession] = []
    labels: list[int] = []
    targets: list[np.ndarray] = []
    short = single = 0
    for sid, idx in groups:
        if len(idx) < min_length:
            short += 1
            continue
        single += len(idx) == 1
        sessions.append(session_of(parsed, sid, idx))
        if line_labels is not None:
            target = line_labels[idx].astype(np.int8)
            targets.append(target)
            labels.append(int(target.any()))
    counts["sessions_dropped_short"] = short
    counts["single_line_sessions"] = int(single)
    if line_labels is None:
        return Sessions(sessions, None, None)
    return Sessions(sessions, np.asarray(labels, dtype=np.int8), targets)


def window_groups(
    name: str,
    timestamps: np.ndarray,
    *,
    window: str,
    unit: str,
    size: float,
    step: float | None,
    counts: dict[str, int],
    where: str,
    time_example: str = "",
) -> list[tuple[str, np.ndarray]]:
    """Line-index groups of fixed or sliding windows, by line count or by time.

    Count windows start every ``step`` lines (``size`` for fixed windows); the last one may
    be shorter, and a sliding window is only added at the end when lines would otherwise be
    left out. Time windows are ``[start, start + size)`` seconds with starts every ``step``
    seconds from the first timestamp; lines without a timestamp take the previous line's
    (counted), empty windows are skipped (counted), lines keep their file order.
    ``time_example``: the time fields of a line whose time could not be read (``ParsedLog``), so
    that "no timestamp" says what was found instead of asking for fields the format has.
    """
    n = len(timestamps)
    stride = size if window == "fixed" or step is None else step
    out: list[tuple[str, np.ndarray]] = []
    if unit == "lines":
        size_i, stride_i = int(size), int(stride)
        starts = list(range(0, max(n - size_i, 0) + 1, stride_i)) if window == "sliding" else list(range(0, n, size_i))
        if window == "sliding" and starts[-1] + size_i < n:
            starts.append(starts[-1] + stride_i)
        for k, s in enumerate(starts):
            out.append((f"{name}/w{k:05d}", np.arange(s, min(s + size_i, n))))
        return out
    ts = np.array(timestamps, dtype=np.float64)
    known = ~np.isnan(ts)
    if not known.any():
        if time_example:
            raise DataError(
                f"{where}: window_unit='seconds' needs line times, and the header's time fields are there but "
                f"could not be read as times (e.g. {time_example}); {TIME_FIX}; or use window_unit='lines'"
            )
        raise DataError(
            f"{where}: no line has a timestamp the header format exposes, so time windows are undefined; "
            "use window_unit='lines' (or give a log format with a Timestamp or Date/Time field)"
        )
    if not known.all():  # carry the last known time forward (the first ones backward)
        pos = np.where(known, np.arange(n), 0)
        np.maximum.accumulate(pos, out=pos)
        first = int(np.flatnonzero(known)[0])
        pos[: first] = first
        ts = ts[pos]
    counts["lines_out_of_time_order"] = int((np.diff(ts) < 0).sum())
    order = np.argsort(ts, kind="stable")
    sorted_ts = ts[order]
    t0, t1 = float(sorted_ts[0]), float(sorted_ts[-1])
    n_windows = math.floor((t1 - t0) / stride) + 1
    if n_windows > 50_000_000:
        raise ConfigError(f"{where}: window_step={stride} s gives {n_windows} windows over {t1 - t0:.0f} s; raise window_step")
    starts = t0 + stride * np.arange(n_windows)
    lo = np.searchsorted(sorted_ts, starts, side="left")
    hi = np.searchsorted(sorted_ts, starts + size, side="left")
    nonempty = np.flatnonzero(hi > lo)
    counts["empty_windows_skipped"] = int(n_windows - nonempty.size)
    for k, w in enumerate(nonempty):
        out.append((f"{name}/w{k:05d}", np.sort(order[lo[w]:hi[w]])))
    return out


def split_indices(
    labels: np.ndarray | None, n: int, *, fraction: float, mode: str, seed: int, counts: dict[str, int], where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test positions: train holds only normal sessions (see ``SplitParams``)."""
    if n < 2:
        raise DataError(f"{where}: only {n} session(s); need at least 2 (one to train on, one to test)")
    y = np.zeros(n, dtype=np.int8) if labels is None else labels
    if mode == "chronological":
        head = np.arange(n) < max(1, round(fraction * n))
        train = np.flatnonzero(head & (y == 0))
        moved = head & (y == 1)
        counts["train_period_anomalies_to_test"] = int(moved.sum())
        test = np.flatnonzero(~head | moved)
    else:
        normal = np.flatnonzero(y == 0)
        perm = np.random.default_rng(seed).permutation(normal)
        k = max(1, round(fraction * len(normal))) if len(normal) else 0
        train = np.sort(perm[:k])
        test = np.setdiff1d(np.arange(n), train)
    if train.size == 0:
        raise DataError(
            f"{where}: no normal session falls into the train split ({int(y.sum())} of {n} sessions are anomalous); "
            "raise train_fraction, use split='random', or use smaller windows"
        )
    if test.size == 0:
        raise DataError(f"{where}: every session went to the train split; lower train_fraction")
    return train, test


def _take(seq: Sequence[Any] | None, idx: np.ndarray) -> list[Any] | None:
    return None if seq is None else [seq[i] for i in idx]


def make_subset(
    name: str,
    data: Sessions,
    train: np.ndarray,
    test: np.ndarray,
    counts: dict[str, int],
    meta: dict[str, Any] | None = None,
) -> Subset:
    """The subset of ``data`` at the train/test positions; ``meta`` = counts + totals + ``meta``."""
    ids = [s.id for s in data.sessions]
    labelled = data.labels is not None
    train_split = Split(
        samples=_take(data.sessions, train),
        labels=np.zeros(len(train), dtype=np.int8) if labelled else None,
        ids=_take(ids, train),
    )
    test_labels = data.labels[test] if labelled else np.zeros(len(test), dtype=np.int8)
    test_split = Split(
        samples=_take(data.sessions, test),
        labels=test_labels,
        targets=_take(data.targets, test),
        severity=None if data.severity is None else data.severity[test],
        ids=_take(ids, test),
    )
    lengths = np.array([len(s) for s in data.sessions])
    info: dict[str, Any] = {
        "labelled": labelled,
        "n_sessions": len(data),
        "n_train": len(train),
        "n_test": len(test),
        "n_test_anomalous": int(test_labels.sum()),
        "n_events": len(data.sessions[0].vocabulary.templates) if data.sessions and data.sessions[0].vocabulary else 0,
        "session_length_mean": float(lengths.mean()) if lengths.size else 0.0,
        "session_length_max": int(lengths.max()) if lengths.size else 0,
        "counts": {k: int(v) for k, v in counts.items()},
    }
    if labelled and data.targets is not None:
        info["n_anomalous_lines"] = int(sum(int(t.sum()) for t in data.targets))
    info.update(meta or {})
    return Subset(name=name, train=train_split, test=test_split, meta=info)


def warn_counts(where: str, counts: dict[str, int], keys: Iterable[str]) -> None:
    """One warning listing the noteworthy repairs (those that change what a detector sees)."""
    found = {k: counts[k] for k in keys if counts.get(k)}
    if found:
        listed = ", ".join(f"{k}={v}" for k, v in found.items())
        warnings.warn(f"{where}: {listed} (details in Subset.meta['counts'], see docs/datasets.md)", stacklevel=3)


#: counts that deserve a warning when non-zero
NOTEWORTHY = (
    "lines_unmatched_header", "lines_truncated", "lines_with_replacements", "nul_chars_removed",
    "lines_without_ground_truth", "label_ids_unknown", "lines_without_label",
    "sessions_without_label", "sessions_dropped_short", "label_rows_repeated", "empty_sessions_skipped",
)


class LogDataset(Dataset):
    """Base of the log datasets: per-line pictures for the report; lines named in the user's terms.

    Own data (``omniad fit / score``): the template miner, header and session rule a loader used
    are exported with the model and imported when it scores a new file (``own``).
    """

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_logs.datasets.render import render_examples

        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """file, line (1-based in the file), timestamp, template, event, new_template, raw: one per line."""
        from omniad_logs.datasets.own import element_columns

        return element_columns(split.samples[index], n_elements)

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        """Ranked log lines (HTML and markdown) and a per-session score bar chart (PNG, with matplotlib)."""
        from omniad_logs.datasets.results import render_results

        return render_results(split, decisions, Path(out_dir), max_items=max_items)

    def export_source_state(self) -> dict[str, Any] | None:
        from omniad_logs.datasets.own import export_state

        return export_state(self)

    def import_source_state(self, state: dict[str, Any]) -> None:
        from omniad_logs.datasets.own import import_state

        import_state(self, state)

    def watcher(self, detector: Any, options: dict[str, Any], say: Any) -> Any:
        """A live scorer of raw lines with the model's parser, session rule and thresholds (``omniad watch``)."""
        from omniad_logs.watch.streamer import LogStreamer

        return LogStreamer(self, detector, options, say)

    def file_miner(self, shared: bool = False) -> TemplateMiner:
        """The template miner for the next file (see ``own.file_miner``)."""
        from omniad_logs.datasets.own import file_miner

        return file_miner(self, shared)

    def mark_new(self, parsed: ParsedLog, where: str) -> None:
        from omniad_logs.datasets.own import mark_new

        mark_new(self, parsed, where)


def windowed_subset(
    parsed: ParsedLog,
    name: str,
    where: str,
    *,
    line_labels: np.ndarray | None,
    windows: Any,
    split: Any,
    counts: dict[str, int],
    meta: dict[str, Any] | None = None,
) -> Subset:
    """One subset of windows over ``parsed`` (``windows``: ``WindowParams``, ``split``: ``SplitParams``)."""
    groups = window_groups(name, parsed.timestamps, window=windows.window, unit=windows.window_unit,
                           size=windows.window_size, step=windows.window_step, counts=counts, where=where,
                           time_example=parsed.time_example)
    data = build_sessions(parsed, groups, line_labels=line_labels, min_length=windows.min_session_length,
                          counts=counts)
    train, test = split_indices(data.labels, len(data), fraction=split.train_fraction, mode=split.split,
                                seed=split.seed, counts=counts, where=where)
    info = {"window": f"{windows.window} {windows.window_size:g}"
            + (f"/{windows.window_step:g}" if windows.window_step else "") + f" {windows.window_unit}"}
    info.update(meta or {})
    warn_counts(where, counts, NOTEWORTHY)
    return make_subset(name, data, train, test, counts, info)
