"""Data notes: what a loader repaired or dropped (``Subset.meta["counts"]``) and the warnings a
job raised, kept in its record so a number in the results table never hides them.

Warnings are recorded, not swallowed: the filters in force decide as always what is shown,
ignored (DeprecationWarnings by default: library noise stays out of the records) or raised
(``-W error``), and a warning that is shown is also kept for the record. Each capture lets
Python show again what it already showed once at that line, so the second subset's warnings
are not lost to the first's. Capture is per thread: ``warnings.catch_warnings`` swaps
process-wide state, so two runners in two threads (tests, notebooks) would restore each
other's; here the first capture installs one ``showwarning`` hook that also hands each
warning to the capture of the thread that raised it, and the last one puts the old one back.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: distinct warnings kept per subset; the rest are counted in one closing entry
MAX_WARNINGS = 10
#: characters of a warning's message kept
MAX_MESSAGE = 240

_REPEATS = re.compile(r" \(x\d+\)$")  # the repeat count summarize_warnings appends

_lock = threading.Lock()
_local = threading.local()
_depth = 0
_shown: Any = None  # the showwarning in place before the first capture


def _route(
    message: Any,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    sink = getattr(_local, "sink", None)
    if sink is not None:
        sink.append(f"{category.__name__}: {message}")
    show = _shown or warnings._showwarning_orig  # type: ignore[attr-defined]
    show(message, category, filename, lineno, file, line)  # shown exactly as without a capture


def _show_again() -> None:
    """Forget which warnings Python already showed once per line, so this subset's come through."""
    mutated = getattr(warnings, "_filters_mutated", None)  # what catch_warnings calls (CPython)
    if callable(mutated):
        mutated()


@contextlib.contextmanager
def capture_warnings() -> Iterator[list[str]]:
    """Collect the warnings shown in this thread while the block runs ("Category: message")."""
    global _depth, _shown
    with _lock:
        if _depth == 0:
            _shown = warnings.showwarning
            warnings.showwarning = _route
        _depth += 1
        _show_again()
    caught: list[str] = []
    previous = getattr(_local, "sink", None)
    _local.sink = caught
    try:
        yield caught
    finally:
        _local.sink = previous
        if previous is not None:
            previous.extend(caught)  # an enclosing capture sees them too
        with _lock:
            _depth -= 1
            if _depth == 0:
                if warnings.showwarning is _route:  # else someone replaced it meanwhile: leave theirs
                    warnings.showwarning = _shown
                _shown = None


def summarize_warnings(caught: list[str]) -> list[str]:
    """Distinct warnings in first-seen order, each shortened, repeats counted, at most ``MAX_WARNINGS``."""
    counts: dict[str, int] = {}
    for text in caught:
        one = " ".join(str(text).split())
        one = one if len(one) <= MAX_MESSAGE else one[: MAX_MESSAGE - 1] + "…"
        counts[one] = counts.get(one, 0) + 1
    out = [text if n == 1 else f"{text} (x{n})" for text, n in counts.items()]
    if len(out) > MAX_WARNINGS:
        out = [*out[:MAX_WARNINGS], f"... and {len(out) - MAX_WARNINGS} more distinct warnings"]
    return out


def _count(value: Any) -> int | None:
    """``value`` as a count: an integer, or a whole float (a sum over a float array: ``316.0``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(whole := float(value)) and whole.is_integer():
        return int(whole)
    return None


def subset_counts(meta: Mapping[str, Any]) -> dict[str, int]:
    """The non-zero counts a loader recorded in ``Subset.meta["counts"]``, as integers.

    A value that is no count (``2.5``, ``"7"``) is left out with a warning naming it, not
    dropped without a word: it is a loader bug, and the repair it stood for would vanish.
    """
    counts = meta.get("counts") if isinstance(meta, Mapping) else None
    if not isinstance(counts, Mapping):
        return {}
    out = {}
    for name, value in counts.items():
        n = _count(value)
        if n is None:
            warnings.warn(
                f"Subset.meta['counts'][{str(name)!r}] = {value!r} is not a whole number, so it is left "
                "out of the data notes; the loader should record each repair or drop as an integer",
                UserWarning,
                stacklevel=2,
            )
        elif n:
            out[str(name)] = n
    return out


def _in(n: int, total: int) -> str:
    return "every subset" if n == total and total > 1 else f"{n} of {total} subsets"


def count_sums(subsets: Sequence[Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Each count summed over a job's subsets, and in how many subsets it was non-zero.

    Read from records, which may be old or edited: a subset or a value that is not what the
    runner writes adds nothing rather than breaking a report.
    """
    sums: dict[str, int] = {}
    where: dict[str, int] = {}
    for sub in subsets:
        counts = sub.get("counts") if isinstance(sub, Mapping) else None
        for name, value in subset_counts({"counts": counts}).items():
            sums[name] = sums.get(name, 0) + value
            where[name] = where.get(name, 0) + 1
    return dict(sorted(sums.items())), where


def data_note(subsets: list[dict[str, Any]], extra_warnings: Sequence[str] = ()) -> str:
    """One readable line: counts summed over subsets, then the distinct warnings (like ``adjusted``)."""
    total = len(subsets)
    sums, where = count_sums(subsets)
    seen: dict[str, int] = {}
    for sub in subsets:
        for text in dict.fromkeys(_REPEATS.sub("", t) for t in sub.get("warnings", [])):
            if not text.startswith("... and "):
                seen[text] = seen.get(text, 0) + 1
    parts = []
    if sums:
        parts.append(
            ", ".join(
                f"{name} {sums[name]}" + ("" if total <= 1 else f" ({_in(where[name], total)})")
                for name in sums
            )
        )
    for text in dict.fromkeys(extra_warnings):
        seen.setdefault(text, 0)
    if seen:
        shown = list(seen.items())[:MAX_WARNINGS]
        more = len(seen) - len(shown)
        listed = "; ".join(
            text + ("" if total <= 1 or n == 0 else f" ({_in(n, total)})") for text, n in shown
        )
        parts.append(f"warnings: {listed}" + (f"; ... and {more} more" if more else ""))
    return "; ".join(parts)
