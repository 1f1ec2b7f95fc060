"""What every log detector's ``fit`` / ``score`` take from a user's hands (``Detector._coerce``).

- a ``LogSession``: one session; a list of them: several;
- a list of event-id sequences (``[["E5", "E22"], ...]``): sessions without raw text (as before);
- a list of raw log lines (``["081109 203615 148 INFO dfs.DataNode: ...", ...]``): **one** session of
  those lines, read like a file: the header is split off and the contents are parsed into
  events. With a model whose fit data was read from a file (``omniad.fit`` / ``omniad fit``),
  the model's saved parser and header are used, so a template gets the event id it had at fit;
  otherwise a fresh ``TemplateMiner`` and a probed header (event ids are then only comparable
  with a model fitted on lines parsed the same way: fit on a file instead). Blank lines are
  skipped and counted;
- a path (str or ``os.PathLike``) is read by the core with the loader that reads it.

Anything else fails naming what was received and what to pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad_logs.session import LogSession

WHAT = ("a LogSession, a list of LogSessions, a list of event-id sequences, a list of raw log lines "
        "(read as one session) or a path to a log file or folder")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def coerce_samples(samples: Any, where: str, source: dict[str, Any] | None) -> Any:
    """``samples`` as a sequence of log samples (see the module docstring), or a ``DataError``."""
    if isinstance(samples, LogSession):
        return [samples]
    if isinstance(samples, np.ndarray):
        if samples.ndim == 1 and samples.dtype.kind in "US":
            return [lines_session([str(x) for x in samples], where, source)]
        raise DataError(f"{where}: log detectors take {WHAT}; got {_describe(samples)}")
    if isinstance(samples, (dict, bytes)) or not isinstance(samples, Sequence) or isinstance(samples, str):
        if hasattr(samples, "columns") and hasattr(samples, "iloc"):
            raise DataError(f"{where}: log detectors take {WHAT}; got a DataFrame — pass its message column as a list "
                            "(df['message'].tolist()) or save it as CSV and pass the path (logs.table reads it)")
        raise DataError(f"{where}: log detectors take {WHAT}; got {_describe(samples)}")
    items = list(samples)
    texts = [isinstance(x, str) for x in items]
    if items and all(texts):
        return [lines_session(items, where, source)]
    if any(texts):
        k = texts.index(False) if texts[0] else texts.index(True)
        raise DataError(f"{where}: a list of raw log lines must hold only strings (one line each), and a list of "
                        f"sessions no strings; item #{k} is {_describe(items[k])}")
    return samples


def lines_session(lines: list[str], where: str, source: dict[str, Any] | None) -> LogSession:
    """One session of raw lines, parsed with the model's saved parser where there is one (else a fresh one)."""
    from omniad_logs.datasets.base import ParsedLog, session_of, split_lines
    from omniad_logs.datasets.headers import AUTO, choose
    from omniad_logs.parsing import TemplateMiner
    from omniad_logs.session import EventVocabulary

    kept = [(i + 1, x.rstrip("\r\n")) for i, x in enumerate(lines) if x.strip()]
    if not kept:
        raise DataError(f"{where}: the {len(lines)} lines are all blank; pass log lines with text")
    if len(kept) < len(lines):
        warnings.warn(f"{where}: {len(lines) - len(kept)} blank lines skipped", UserWarning, stacklevel=4)
    state = source.get("state") if isinstance(source, dict) else None
    miner, previous, known = None, None, None
    if isinstance(state, dict) and isinstance(state.get("parser"), str):
        miner = TemplateMiner.from_json(state["parser"])  # a copy: the saved model is not changed
        known = frozenset(miner.templates())
        previous = state.get("header") if isinstance(state.get("header"), str) else None
    raw = [x for _, x in kept]
    header = choose(raw, AUTO, previous=previous)
    split = header.parser()
    contents, stamps, unmatched = split_lines(raw, split)
    results = (miner or TemplateMiner()).parse_batch(contents)
    counts = {"blank_lines_skipped": len(lines) - len(kept), "lines_unmatched_header": unmatched}
    parsed = ParsedLog(raw, np.array([n for n, _ in kept], dtype=np.int64), contents, [r.event_id for r in results],
                       [tuple(r.parameters) for r in results], stamps,
                       EventVocabulary({r.event_id: r.template for r in results}), counts, file="", keep=True)
    if known is not None:
        parsed.new = np.fromiter((e not in known for e in parsed.events), dtype=np.int8, count=len(parsed))
    first, last = int(parsed.line_numbers[0]), int(parsed.line_numbers[-1])
    return session_of(parsed, f"lines:{first}-{last}", np.arange(len(parsed)),
                      {"header": header.spec, "parser": "model" if miner is not None else "fresh"})


class LogInput:
    """Mixin of the log detectors' bases: ``_coerce`` as the module docstring says."""

    def uses_parameters(self) -> bool:
        """Whether scores read ``LogSession.parameters``; a live watch skips extracting them when not."""
        return False

    def _coerce(self, samples: Any, where: str) -> Any:
        return coerce_samples(samples, where, getattr(self, "source_", None))
