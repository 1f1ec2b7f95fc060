"""Your own logs as a source of ``omniad fit / score / detect``: one raw file or a folder, labels optional.

What a loader does with ``split='all'`` (``logs.loghub``, ``logs.bgl``, ``logs.hdfs``; the cards
select it for a bare path):

- **header**: ``log_format='auto'`` picks a known loghub format, an inferred timestamp prefix or
  none from the first lines, and prints the choice with the share of lines it explains
  (``headers``); ``-s log_format=...`` overrides it;
- **events**: one ``TemplateMiner`` for every file of the source, so a template has one event id
  across files. Its state, the header chosen and the session rule are what
  ``export_source_state`` hands to the model; ``import_source_state`` continues that miner
  when the model scores a new file, so the same template gets the same event id. A template
  the model's miner never saw is learned, counted (``lines_new_template``, ``new_templates``
  in ``Subset.meta["counts"]``), warned about and flagged per line (``new_template``);
- **sessions**: by an id in the line when ``session_pattern`` is given (``blk_-?\\d+``),
  else windows: ``OWN_WINDOW`` lines by default (``window_size``; ``window_unit='seconds'`` for
  time windows). Ids are the session id, or ``<file>:<first line>-<last line>`` for a window
  (1-based line numbers in the file as it is on disk, blank lines counted);
- **labels**: used where the layout has them (BGL/Thunderbird first tokens, an HDFS
  ``anomaly_label.csv``), never required: test = every session, train = those not labelled
  anomalous (``omniad.data.whole_subset``).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Subset, whole_subset
from omniad.errors import DataError

if TYPE_CHECKING:
    from omniad_logs.datasets.base import LogDataset, ParsedLog
    from omniad_logs.datasets.headers import Header
    from omniad_logs.parsing import TemplateMiner

#: lines per window when a bare path is read without a session rule (the cards' source_params)
OWN_WINDOW = 20
STATE_VERSION = 1


def say(message: str) -> None:
    """What a user must see while a source is read (the header chosen): stderr, beside the core's notes."""
    print(message, file=sys.stderr)


@dataclass
class OwnState:
    """What reading a source learned that reading the next one must reuse (one per loader instance)."""

    miner: TemplateMiner | None = None
    #: event ids the model's miner knew (set by ``import_source_state``); None while fitting
    known: frozenset[str] | None = None
    header: str | None = None
    sessions: dict[str, Any] | None = None
    imported: bool = False


def own_state(dataset: Any) -> OwnState:
    state = dataset.__dict__.get("_own_state")
    if state is None:
        state = dataset._own_state = OwnState()
    return state


def file_miner(dataset: Any, shared: bool) -> TemplateMiner:
    """The miner for the next file: the source's one (own data, or a model's), else a fresh one per file."""
    from omniad_logs.parsing import TemplateMiner

    st = own_state(dataset)
    if st.miner is None or not (shared or st.imported):
        st.miner = TemplateMiner()
    return st.miner


def display_name(file: Path, root: Path) -> str:
    """A file as the user names it: its name for a single file, its path inside the folder otherwise."""
    return file.name if root.is_file() else file.relative_to(root).as_posix()


def choose_header(dataset: Any, log_format: str | None, where: str) -> Any:
    """A ``parse_log`` header callback: choose (reusing the model's header where it still fits) and say it."""
    from omniad_logs.datasets.headers import choose

    st = own_state(dataset)

    def pick(raw: list[str]) -> Header:
        header = choose(raw, log_format, previous=st.header if st.imported else None)
        say(f"{where}: {header.describe()}")
        if not st.imported and st.header is None:
            st.header = header.spec
        pick.chosen = header  # type: ignore[attr-defined]
        return header

    return pick


def mark_new(dataset: Any, parsed: ParsedLog, where: str) -> None:
    """Flag the lines whose event the model's miner did not know; count them, and warn when there are any."""
    st = own_state(dataset)
    if st.known is None:
        return
    new = np.fromiter((e not in st.known for e in parsed.events), dtype=np.int8, count=len(parsed))
    parsed.new = new
    templates = {e for e, n in zip(parsed.events, new, strict=True) if n}
    parsed.counts["lines_new_template"] = int(new.sum())
    parsed.counts["new_templates"] = len(templates)
    if templates:
        warnings.warn(
            f"{where}: {int(new.sum())} lines of {len(templates)} templates the model's parser had not seen "
            "(learned now; flagged in the element table's new_template column)", UserWarning, stacklevel=3)


def window_ids(groups: list[tuple[str, np.ndarray]], parsed: ParsedLog) -> list[tuple[str, np.ndarray]]:
    """``<file>:<first>-<last>`` for each window (line numbers in the file; ``#k`` added if two coincide)."""
    out: list[tuple[str, np.ndarray]] = []
    seen: dict[str, int] = {}
    for _, idx in groups:
        lines = parsed.line_numbers[idx]
        name = f"{parsed.file}:{int(lines.min())}-{int(lines.max())}"
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append((name if k == 0 else f"{name}#{k}", idx))
    return out


def session_rule(params: Any) -> dict[str, Any] | None:
    """How lines become sessions, as saved with the model's source (None: the data's own sessions)."""
    if getattr(params, "session_column", None):
        return {"by": "column", "column": params.session_column}
    pattern = getattr(params, "session_pattern", None)
    if pattern is not None:
        return {"by": "id", "pattern": pattern}
    if not hasattr(params, "window"):
        return None
    return {"by": "window", "window": params.window, "unit": params.window_unit, "size": params.window_size,
            "step": params.window_step}


def describe_rule(rule: dict[str, Any] | None) -> str:
    if not rule:
        return "unknown"
    if rule.get("by") == "id":
        return f"sessions by id {rule.get('pattern')!r}"
    if rule.get("by") == "column":
        return f"sessions by column {rule.get('column')!r}"
    step = f", step {rule['step']:g}" if rule.get("step") else ""
    return f"{rule.get('window')} windows of {rule.get('size'):g} {rule.get('unit')}{step}"


def whole_log(
    dataset: LogDataset,
    file: Path,
    root: Path,
    *,
    log_format: str | None,
    session_pattern: str | None,
    label_file: Path | None = None,
) -> Subset:
    """One subset holding every session of one raw log file (see the module docstring)."""
    from omniad_logs.datasets.base import (
        NOTEWORTHY,
        Sessions,
        build_sessions,
        parse_log,
        warn_counts,
        window_groups,
    )
    from omniad_logs.datasets.bgl import first_token_labels
    from omniad_logs.datasets.hdfs import group_by_id
    from omniad_logs.datasets.reading import read_label_file

    p = dataset.params
    display = display_name(file, root)
    where = f"{dataset.where}: {display}"
    st = own_state(dataset)
    if st.sessions is None:
        st.sessions = session_rule(p)
    pick = choose_header(dataset, log_format, where)
    miner = file_miner(dataset, shared=True) if p.events == "parse" else None
    parsed = parse_log(file, where, log_format=None, header=pick, miner=miner, file=display, encoding=p.encoding,
                       max_line_chars=p.max_line_chars, events=p.events, structured=p.structured)
    header: Header = pick.chosen  # type: ignore[attr-defined]
    parsed.keep = True
    mark_new(dataset, parsed, where)
    counts = dict(parsed.counts)
    meta: dict[str, Any] = {"path": str(file), "file": display, "log_format": header.spec, "header": header.describe()}
    line_labels = None
    if header.labelled:
        line_labels, categories, counts["lines_without_label"] = first_token_labels(parsed.raw)
        meta["alert_categories"] = dict(categories.most_common())
    label_map = read_label_file(label_file, where, counts) if label_file is not None else None
    if label_map is not None:
        meta["labels_file"] = str(label_file)
    if session_pattern is not None:
        groups, without, several = group_by_id(parsed.raw, session_pattern, where)
        counts["lines_without_session"] = without
        counts["lines_in_several_sessions"] = several
        if not groups:
            raise DataError(f"{where}: no line holds a session id matching {session_pattern!r}; fix 'session_pattern' "
                            "or drop it to cut the log into windows")
        if label_map is not None:
            counts["label_ids_unknown"] = sum(1 for k in label_map if k not in groups)
            counts["sessions_without_label"] = sum(1 for k in groups if k not in label_map)
            groups = {k: v for k, v in groups.items() if k in label_map}
        data = build_sessions(parsed, ((k, np.asarray(v)) for k, v in groups.items()), line_labels=line_labels,
                              min_length=p.min_session_length, counts=counts)
        if label_map is not None:
            data = Sessions(data.sessions, np.array([label_map[s.id] for s in data.sessions], dtype=np.int8),
                            data.targets)
        meta["sessions"] = f"by id {session_pattern!r}"
    else:
        groups_w = window_groups(display, parsed.timestamps, window=p.window, unit=p.window_unit, size=p.window_size,
                                 step=p.window_step, counts=counts, where=where, time_example=parsed.time_example)
        data = build_sessions(parsed, window_ids(groups_w, parsed), line_labels=line_labels,
                              min_length=p.min_session_length, counts=counts)
        meta["sessions"] = describe_rule(session_rule(p))
    if not data.sessions:
        raise DataError(f"{where}: no session left (every window is shorter than min_session_length="
                        f"{p.min_session_length}); lower it")
    warn_counts(where, counts, NOTEWORTHY)
    labelled = data.labels is not None
    meta.update({"labelled": labelled, "n_sessions": len(data), "counts": {k: int(v) for k, v in counts.items()}})
    return whole_subset(display, data.sessions, ids=[s.id for s in data.sessions], labels=data.labels,
                        targets=data.targets, meta=meta)


# -- the source state handed to the model --------------------------------------------------
def export_state(dataset: Any) -> dict[str, Any] | None:
    st = own_state(dataset)
    if st.miner is None and st.header is None:
        return None
    return {"version": STATE_VERSION, "parser": None if st.miner is None else st.miner.to_json(),
            "header": st.header, "sessions": st.sessions}


def import_state(dataset: Any, state: Any) -> None:
    """Continue the model's miner, header and session rule (every entry checked: the model folder is input)."""
    from omniad_logs.datasets.headers import Header
    from omniad_logs.parsing import TemplateMiner

    where = f"{dataset.where}: the model's saved source state"
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise DataError(f"{where} is not a version-{STATE_VERSION} log source state; refit the model with this version")
    st = own_state(dataset)
    parser = state.get("parser")
    if parser is not None:
        if not isinstance(parser, str):
            raise DataError(f"{where}: 'parser' is a {type(parser).__name__}, not the miner's JSON text; refit the model")
        st.miner = TemplateMiner.from_json(parser)
        st.known = frozenset(st.miner.templates())
    header = state.get("header")
    if header is not None:
        if not isinstance(header, str):
            raise DataError(f"{where}: 'header' is a {type(header).__name__}, not a header format; refit the model")
        try:
            Header(header, header).parser()
        except Exception as exc:  # an edited format: name it, never a raw regex error later
            raise DataError(f"{where}: 'header' {header!r:.80} is not a usable header format ({exc})") from None
    st.header = header
    saved = state.get("sessions")
    if saved is not None and not isinstance(saved, dict):
        raise DataError(f"{where}: 'sessions' is a {type(saved).__name__}, not a session rule; refit the model")
    current = session_rule(dataset.params)
    if saved and current is not None and saved != current:
        say(f"{dataset.where}: the model's fit data was cut into {describe_rule(saved)}; reading this source with "
            f"{describe_rule(current)} as its parameters say")
    st.sessions = current if current is not None else saved
    st.imported = True


# -- result tables and pictures ------------------------------------------------------------
def iso_time(stamp: float) -> str | None:
    if not np.isfinite(stamp):
        return None
    try:
        return datetime.fromtimestamp(float(stamp), UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def element_columns(session: Any, n_elements: int) -> dict[str, list[Any]]:
    """file, line, timestamp, template, event, new_template, raw for each line of a session.

    Sessions read from a file carry it in their meta (``session_of``); sessions built in memory
    name their lines by position and give what they have (content, template, event).
    """
    n = len(session)
    if n != n_elements:
        return {"line": list(range(1, n_elements + 1))}
    meta = session.meta or {}
    parsed = meta.get("parsed")
    index = meta.get("index")
    cols: dict[str, list[Any]] = {}
    if meta.get("file"):
        cols["file"] = [meta["file"]] * n
    numbers = meta.get("line_numbers")
    cols["line"] = [int(x) for x in numbers] if numbers is not None and len(numbers) == n else list(range(1, n + 1))
    if meta.get("positions"):  # a pre-parsed session is one line of its file: name each event's place in it
        cols["position"] = list(range(1, n + 1))
    if session.timestamps is not None:
        cols["timestamp"] = [iso_time(t) for t in session.timestamps]
    cols["template"] = [session.template(i) for i in range(n)]
    cols["event"] = list(session.events)
    if meta.get("new") is not None:
        cols["new_template"] = [int(x) for x in meta["new"]]
    if parsed is not None and index is not None:
        cols["raw"] = [parsed.raw[int(i)] for i in index]
    elif session.lines is not None:
        cols["raw"] = list(session.lines)
    return cols
