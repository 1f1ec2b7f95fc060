"""Results people read: one table (CSV/parquet/Markdown), and a self-contained HTML report.

Everything is rebuilt from the job records, so ``omniad report DIR`` can regenerate the
outputs of a finished or interrupted run without rerunning anything. Metrics that are
known to flatter (point-adjusted F1) are shown only when an honest metric is in the table
too, and are marked with a dagger and a footnote.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np

from omniad.runner import labels, notes, pictures, summary

STATUS_ORDER = {"ok": 0, "partial": 1, "skipped": 2, "failed": 3}
TIMING_COLUMNS = ("fit_s", "score_s", "samples_per_s", "peak_rss_mb")


def _metric_cards() -> dict[str, Any]:
    try:
        from omniad.plugins import get_registry

        return {e.id: e.card for e in get_registry().list("metric")}
    except Exception:  # reports must render even if a plugin is gone
        return {}


def metric_columns(records: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        for name in record.get("requested_metrics", []):
            seen.setdefault(name, None)
        for name in record.get("metrics", {}):
            seen.setdefault(name, None)
    return list(seen)


def _metric_ids(records: Iterable[dict[str, Any]]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for record in records:
        ids.update(record.get("metric_ids", {}))
    return ids


def short_names(records: list[dict[str, Any]]) -> dict[str, str]:
    """Column label -> the metric card's short name (``AUROC``), for narrow tables."""
    cards = _metric_cards()
    out = {}
    for label, metric_id in _metric_ids(records).items():
        short = getattr(cards.get(metric_id), "short_name", None)
        out[label] = short if short and label == metric_id else label
    return out


def table_columns(records: list[dict[str, Any]]) -> tuple[list[str], list[str], set[str]]:
    """Headline metric columns to show, columns hidden, and the flattering ones among those shown.

    A metric whose card says ``honest=False`` (point-adjusted F1) is shown only when an
    honest metric is in the table too.
    """
    records = list(records)
    headline = []
    for record in records:
        for name in record.get("requested_metrics", []):
            if name not in headline:
                headline.append(name)
    cards = _metric_cards()
    ids = _metric_ids(records)
    dishonest = {c for c in headline if not getattr(cards.get(ids.get(c, c)), "honest", True)}
    if dishonest and len(dishonest) == len(headline):
        return [], headline, set()
    return headline, [], dishonest


def rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per job record."""
    out = []
    for r in records:
        row: dict[str, Any] = {
            "detector": r.get("detector", {}).get("label", "?"),
            "dataset": r.get("dataset", {}).get("label", "?"),
            "seed": r.get("seed"),
            "status": r.get("status", "?"),
        }
        row.update(r.get("metrics", {}))
        for col in TIMING_COLUMNS:
            row[col] = r.get(col)
        row["n_subsets"] = r.get("n_subsets")
        row["error"] = r.get("error", "")
        row["adjusted"] = r.get("adjusted", "")
        row["data_notes"] = r.get("data_notes") or ""
        # the loader's repairs and drops as numbers too, beside the readable note (summed over subsets)
        subsets = r.get("subsets")
        for name, value in notes.count_sums(subsets if isinstance(subsets, list) else [])[0].items():
            row[f"counts.{name}"] = value
        # JSON text, not a dict: rows are written to CSV and parquet as they are
        row["metric_errors"] = (
            json.dumps(r["metric_errors"], sort_keys=True) if r.get("metric_errors") else ""
        )
        row["key"] = r.get("key")
        out.append(row)
    out.sort(key=lambda x: (x["dataset"], STATUS_ORDER.get(x["status"], 9), x["detector"], x["seed"] or 0))
    return out


def _errors(row: dict[str, Any]) -> dict[str, str]:
    text = row.get("metric_errors")
    return json.loads(text) if isinstance(text, str) and text else {}


def not_computed(row: dict[str, Any], names: dict[str, str]) -> str:
    """A row's metrics that could not be computed, grouped by reason: ``AUROC, AUPR: why; ...`` ("" if none).

    A metric that fails leaves no value and, when it failed everywhere, no column; this line
    is what tells the reader it was asked for (console, results.md, report.html).
    """
    by_reason: dict[str, list[str]] = {}
    for label, why in _errors(row).items():
        by_reason.setdefault(why.removeprefix("not computed: "), []).append(names.get(label, label))
    return "; ".join(f"{', '.join(labels)}: {why}" for why, labels in by_reason.items())


def _seed_notes(group: list[dict[str, Any]]) -> str:
    """The data notes of a row's seeds: one line when they agree, else each seed's."""
    by_note = {g["data_notes"]: g["seed"] for g in group if g.get("data_notes")}
    if len(by_note) <= 1:
        return next(iter(by_note), "")
    return " | ".join(f"seed {seed}: {note}" for note, seed in by_note.items())


def subset_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per subset of every job: the per-channel / per-category results.

    Metrics are the subset's own (the job's row holds their mean); a loader's repair and
    drop counts become ``counts.<name>`` columns and the warnings one ``warnings`` cell,
    so a number is never read without what was done to the data behind it.
    """
    out = []
    for r in records:
        base = {
            "detector": r.get("detector", {}).get("label", "?"),
            "dataset": r.get("dataset", {}).get("label", "?"),
            "seed": r.get("seed"),
        }
        for s in r.get("subsets", []):
            row: dict[str, Any] = {**base, "subset": str(s.get("name", "?")), "status": s.get("status", "?")}
            row.update(s.get("metrics", {}))
            for col in ("n_train", "n_test", "fit_s", "score_s"):
                row[col] = s.get(col)
            for name, value in sorted((s.get("counts") or {}).items()):
                row[f"counts.{name}"] = value
            row["warnings"] = " | ".join(s.get("warnings") or [])
            row["error"] = s.get("error", "")
            row["key"] = r.get("key")
            out.append(row)
    out.sort(key=lambda x: (x["dataset"], x["detector"], x["seed"] or 0))  # stable: subsets keep record order
    return out


def _subset_matrix(
    records: list[dict[str, Any]], dataset: str, column: str
) -> tuple[list[str], dict[tuple[str, str], tuple[str, float | None]]] | None:
    """Subset x detector cells of one metric, (text: mean over seeds ± sd, mean), or None under two subsets."""
    cells: dict[tuple[str, str], list[float]] = {}
    ran: dict[tuple[str, str], bool] = {}
    names: dict[str, None] = {}
    for row in subset_rows([r for r in records if r.get("dataset", {}).get("label", "?") == dataset]):
        names.setdefault(row["subset"], None)
        at = (row["subset"], row["detector"])
        ran[at] = ran.get(at, False) or row["status"] == "ok"
        value = row.get(column)
        if row["status"] == "ok" and isinstance(value, (int, float)) and not math.isnan(value):
            cells.setdefault(at, []).append(float(value))
    if len(names) < 2:
        return None
    out: dict[tuple[str, str], tuple[str, float | None]] = {}
    for at in ran:
        values = cells.get(at)
        if values:
            mean = float(np.mean(values))
            out[at] = (_fmt(mean) + (f" ± {np.std(values):.3f}" if len(values) > 1 else ""), mean)
        else:
            out[at] = ("—" if ran[at] else "failed", None)
    return list(names), out


def leaderboard(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows aggregated over seeds: mean (and std where several seeds) per detector and dataset."""
    columns = metric_columns(records)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows(records):
        groups.setdefault((row["dataset"], row["detector"]), []).append(row)
    out = []
    for (dataset, detector), group in groups.items():
        statuses = sorted({g["status"] for g in group}, key=lambda s: STATUS_ORDER.get(s, 9))
        agg: dict[str, Any] = {
            "dataset": dataset,
            "detector": detector,
            "status": "/".join(statuses),
            "seeds": len(group),
        }
        for col in (*columns, *TIMING_COLUMNS):
            values = [
                g[col] for g in group if isinstance(g.get(col), (int, float)) and not math.isnan(g[col])
            ]
            agg[col] = float(np.mean(values)) if values else None
            if len(values) > 1 and col in columns:
                agg[f"{col} std"] = float(np.std(values))
        agg["error"] = next((g["error"] for g in group if g["error"]), "")
        agg["adjusted"] = next((g["adjusted"] for g in group if g["adjusted"]), "")
        agg["data_notes"] = _seed_notes(group)
        merged = {k: v for g in reversed(group) for k, v in _errors(g).items()}
        agg["metric_errors"] = json.dumps(merged, sort_keys=True) if merged else ""
        out.append(agg)
    primary = columns[0] if columns else None

    def sort_key(a: dict[str, Any]) -> tuple[Any, ...]:
        value = a.get(primary) if primary else None
        return (a["dataset"], value is None, -(value or 0.0), a["detector"])

    out.sort(key=sort_key)
    return out, columns


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}f}" if abs(value) < 1e5 else f"{value:.3g}"
    return str(value)


@dataclasses.dataclass
class Section:
    """One dataset's table: its rows (best first) and the metric columns that apply to it.

    ``columns`` start with the dataset's protocol metrics (``protocol``), the headline first:
    the rows are sorted by it, whatever else the run measured.
    """

    dataset: str
    rows: list[dict[str, Any]]
    columns: list[str]
    hidden: list[str]
    dishonest: set[str]
    #: the protocol metrics among ``columns`` (its first ones), headline first
    protocol: list[str] = field(default_factory=list)
    #: what people read for ``dataset``: id and non-default parameters (``labels.display_label``)
    display: str = ""
    #: whether the headline metric is better low (a delay)
    lower: bool = False

    @property
    def headline(self) -> str | None:
        return self.columns[0] if self.columns else None


def _dataset_cards() -> dict[str, Any]:
    try:
        from omniad.plugins import get_registry

        return {e.id: e.card for e in get_registry().list("dataset")}
    except Exception:  # reports must render even if a plugin is gone
        return {}


def protocol_columns(records: list[dict[str, Any]], shown: list[str], dishonest: set[str]) -> list[str]:
    """One dataset's protocol metrics among ``shown``, headline first.

    The protocol is the dataset card's ``metrics`` (its usual protocol, headline first),
    as far as the run measured them; without those, the first honest metric its jobs
    requested (config order). A metric that flatters is never the headline.
    """
    ids = _metric_ids(records)
    card = _dataset_cards().get(str(next((r.get("dataset", {}).get("id") for r in records), "")))
    declared = list(getattr(card, "metrics", ()) or ())
    out = [c for m in declared for c in shown if ids.get(c, c) == m]
    out = list(dict.fromkeys(out))
    honest = [c for c in out if c not in dishonest]
    if honest:
        return [honest[0], *[c for c in out if c != honest[0]]]
    first = next((c for c in shown if c not in dishonest), None)
    return [first] if first is not None else []


def _lower_is_better(records: list[dict[str, Any]], column: str) -> bool:
    card = _metric_cards().get(_metric_ids(records).get(column, column))
    return not getattr(card, "higher_is_better", True)


def sections(records: list[dict[str, Any]]) -> list[Section]:
    """One table per dataset with only that dataset's metrics, protocol metrics first, sorted by its headline."""
    board, _ = leaderboard(records)
    shown_as = labels.display_labels("dataset", records)
    out = []
    for dataset in sorted({r.get("dataset", {}).get("label", "?") for r in records}):
        subset = [r for r in records if r.get("dataset", {}).get("label", "?") == dataset]
        shown, hidden, dishonest = table_columns(subset)
        rows_ = [b for b in board if b["dataset"] == dataset]
        shown = [c for c in shown if any(b.get(c) is not None for b in rows_)]  # n/a for this dataset
        protocol = protocol_columns(subset, shown, dishonest)
        shown = [*protocol, *[c for c in shown if c not in protocol]]
        lower = False
        if shown:
            first = shown[0]
            lower = _lower_is_better(subset, first)
            rows_.sort(
                key=lambda b: (
                    b.get(first) is None,
                    (b.get(first) or 0.0) * (1 if lower else -1),
                    b["detector"],
                )
            )
        out.append(
            Section(dataset, rows_, shown, hidden, dishonest, protocol, shown_as.get(dataset, dataset), lower)
        )
    return out


def _resolved(records: list[dict[str, Any]], kind: str, label: str) -> list[dict[str, Any]]:
    """The ``kind`` dicts (id, params, label) of the records whose ``kind`` has ``label``."""
    return [r[kind] for r in records if isinstance(r.get(kind), dict) and r[kind].get("label", "?") == label]


def _cell(row: dict[str, Any], column: str) -> str:
    cell = _fmt(row.get(column))
    if row.get(f"{column} std") is not None:
        cell += f" ± {row[f'{column} std']:.3f}"
    return cell


def _md(text: str) -> str:
    """A table cell: a ``|`` in a subset or detector name would split it."""
    return str(text).replace("|", "\\|")


def markdown(records: list[dict[str, Any]], title: str | None = None) -> str:
    names = short_names(records)
    det = labels.display_labels("detector", records)
    lines = [f"# {title}", ""] if title else []
    secs = sections(records)
    shown = {sec.dataset: sec.display or sec.dataset for sec in secs}
    lines += summary.markdown(secs, names, lambda d: shown.get(d, d), lambda d: det.get(d, d), _fmt, _md)
    any_dishonest = False
    for sec in secs:
        header = [
            "detector",
            *[names.get(c, c) + (" †" if c in sec.dishonest else "") for c in sec.columns],
            "fit s",
            "score s",
            "status",
        ]
        lines += [f"## {_md(shown[sec.dataset])}", ""]
        params = labels.parameters(_resolved(records, "dataset", sec.dataset))
        if params:
            lines += [
                "<details><summary>dataset parameters</summary>",
                "",
                ", ".join(f"`{k}` = {_md(v)}" for k, v in params),
                "",
                "</details>",
                "",
            ]
        if sec.columns:
            lines += [
                f"Sorted by {names.get(sec.columns[0], sec.columns[0])}, the dataset's protocol metric"
                f"{' (lower is better)' if sec.lower else ''}.",
                "",
            ]
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
        for row in sec.rows:
            cells = [
                _md(det.get(row["detector"], row["detector"])),
                *[_cell(row, c) for c in sec.columns],
                _fmt(row.get("fit_s"), 2),
                _fmt(row.get("score_s"), 2),
                row["status"],
            ]
            lines.append("| " + " | ".join(cells) + " |")
        if sec.hidden:
            lines += ["", f"Not shown without an honest metric beside them: {', '.join(sec.hidden)}."]
        problems = [r for r in sec.rows if r["error"]]
        if problems:
            lines += ["", "Problems:"] + [
                f"- {det.get(r['detector'], r['detector'])}: {r['error']}" for r in problems
            ]
        missing = [(r, text) for r in sec.rows if (text := not_computed(r, names))]
        if missing:
            lines += ["", "Metrics not computed:"] + [
                f"- {det.get(r['detector'], r['detector'])}: {text}" for r, text in missing
            ]
        adjusted = [r for r in sec.rows if r.get("adjusted")]
        if adjusted:
            lines += ["", "Adjusted defaults:"] + [
                f"- {det.get(r['detector'], r['detector'])}: {r['adjusted']}" for r in adjusted
            ]
        noted = [r for r in sec.rows if r.get("data_notes")]
        if noted:
            lines += ["", "Data notes (repairs, drops, warnings):"] + [
                f"- {det.get(r['detector'], r['detector'])}: {r['data_notes']}" for r in noted
            ]
        if sec.columns and (matrix := _subset_matrix(records, sec.dataset, sec.columns[0])):
            subsets, by_cell = matrix
            detectors = [r["detector"] for r in sec.rows]
            lines += [
                "",
                f"### {_md(shown[sec.dataset])}: {names.get(sec.columns[0], sec.columns[0])} per subset",
                "",
                "| subset | " + " | ".join(_md(det.get(d, d)) for d in detectors) + " |",
                "|" + "|".join(["---"] * (len(detectors) + 1)) + "|",
            ]
            lines += [
                "| "
                + " | ".join([_md(sub), *[by_cell.get((sub, d), ("", None))[0] for d in detectors]])
                + " |"
                for sub in subsets
            ]
            lines += ["", "Every metric of every subset: results_subsets.csv."]
        n_pics = sum(
            len(s.get("artifacts", []))
            for r in records
            if r.get("dataset", {}).get("label", "?") == sec.dataset
            for s in r.get("subsets", [])
        )
        if n_pics:
            lines += ["", f"{n_pics} example pictures (overlays, score plots): see report.html."]
        lines.append("")
        any_dishonest = any_dishonest or bool(sec.dishonest)
    legend = [f"`{names[c]}` = {c}" for c in names if names[c] != c]
    if legend:
        lines += ["Columns: " + "; ".join(legend) + ".", ""]
    if any_dishonest:
        lines += [
            "† flatters detectors (point adjustment credits a whole event for one hit); "
            "read it only beside the honest metrics.",
            "",
        ]
    return "\n".join(lines)


def _columns(flat: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in flat:
        for key in row:
            columns.setdefault(key, None)
    return list(columns)


def _write_rows_csv(flat: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_columns(flat))
        writer.writeheader()
        writer.writerows(flat)
    return path


def _arrow_values(values: list[Any]) -> list[Any]:
    """One parquet type per column: ints among floats become floats, anything else mixed becomes text."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} or len(kinds) <= 1:
        return [float(v) if float in kinds and isinstance(v, int) else v for v in values]
    return [None if v is None else str(v) for v in values]


def _write_rows_parquet(flat: list[dict[str, Any]], path: Path) -> Path | None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    table = pa.table({c: _arrow_values([row.get(c) for row in flat]) for c in _columns(flat)})
    pq.write_table(table, path)
    return path


def write_csv(records: list[dict[str, Any]], path: Path) -> Path:
    return _write_rows_csv(rows(records), path)


def write_parquet(records: list[dict[str, Any]], path: Path) -> Path | None:
    """Parquet when pyarrow is installed (``pip install omniad[parquet]``); None otherwise."""
    return _write_rows_parquet(rows(records), path)


def write_subsets_csv(records: list[dict[str, Any]], path: Path) -> Path:
    """``results_subsets.csv``: one row per subset (channel, category, series) of every job."""
    return _write_rows_csv(subset_rows(records), path)


def write_subsets_parquet(records: list[dict[str, Any]], path: Path) -> Path | None:
    """``results_subsets.parquet`` when pyarrow is installed; None otherwise."""
    return _write_rows_parquet(subset_rows(records), path)


def _bars(board: list[dict[str, Any]], column: str, short: str, det: dict[str, str]) -> str:
    """A bar chart of one metric per detector, in HTML and CSS (no plotting library, no SVG).

    Each label is shown whole beside its bar, wrapping after commas and parentheses when it
    is long (an SVG label has a fixed width and was cut), the stored label as its tooltip.
    """
    items = [
        (str(b["detector"]), float(b[column]))
        for b in board
        if isinstance(b.get(column), (int, float)) and not math.isnan(b[column])
    ]
    if not items:
        return ""
    hi = max(1.0, max(v for _, v in items))
    out = [f"<div class='bars' role='img' aria-label='{html.escape(short)} per detector'>"]
    for name, value in items:
        share = 100 * max(value, 0.0) / hi
        out.append(
            f"<div class='bar-label' title='{html.escape(name)}'>{labels.wrappable(det.get(name, name))}</div>"
            f"<div class='bar-track'><span style='width:{0.85 * share:.1f}%'></span>{value:.3f}</div>"
        )
    out.append("</div>")
    return "".join(out)


CSS = (
    """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1rem 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left}
tr.failed td{background:#fdecea} tr.skipped td{color:#888} tr.partial td{background:#fff8e1}
details{margin:.5rem 0} summary{cursor:pointer;font-weight:600}
img{max-width:100%;border:1px solid #ddd;margin:4px 0}
h2{overflow-wrap:anywhere} details.params{margin:-.5rem 0 .5rem;font-size:13px}
details.params summary{font-weight:400;color:#555} details.params td{text-align:left;overflow-wrap:anywhere}
.bars{display:grid;grid-template-columns:minmax(8rem,max-content) minmax(14rem,1fr);gap:3px 10px;
 max-width:1000px;font-size:13px;align-items:center;margin:.5rem 0 1rem}
.bars .bar-label{max-width:26rem;text-align:right}
.bar-track{display:flex;align-items:center;gap:6px;font-variant-numeric:tabular-nums}
.bar-track span{display:block;height:14px;background:#4c78a8;min-width:1px}
.summary table.matrix th{vertical-align:bottom}
details.per-subset table,.summary table.matrix{display:block;max-width:100%;overflow-x:auto} .summary{border-bottom:1px solid #ccc;margin-bottom:1.5rem}
.note{color:#555;font-size:13px} .note.data{color:#7a4d00}
td.failed{background:#fdecea}
"""
    + pictures.GALLERY_CSS
)


def _gallery_order(pics: list[pictures.Picture], sec: Section) -> list[pictures.Picture]:
    """Best detector's pictures first (the table's order), then by seed; subsets keep record order."""
    rank = {b["detector"]: i for i, b in enumerate(sec.rows)}
    return sorted(pics, key=lambda p: (rank.get(p.detector, len(rank)), str(p.seed)))


def _subset_notes(sub: dict[str, Any]) -> str:
    """A subset's counts and warnings as one readable cell."""
    parts = []
    if counts := sub.get("counts"):
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if warns := sub.get("warnings"):
        parts.append("warnings: " + "; ".join(warns))
    if sub.get("error"):
        parts.append(str(sub["error"]))
    return " · ".join(parts)


def _html_job_subsets(subs: list[dict[str, Any]], names: dict[str, str]) -> str:
    """One job's subsets: the headline metrics under their short names, sizes, timings, notes."""
    esc = html.escape
    cols = [c for c in metric_columns([{"metrics": s.get("metrics", {})} for s in subs])]
    head = "".join(f"<th title='{esc(c)}'>{esc(names.get(c, c))}</th>" for c in cols)
    out = [
        f"<table class='subsets'><tr><th class='l'>subset</th>{head}<th>n test</th><th>fit s</th>"
        "<th>score s</th><th class='l'>status</th><th class='l'>notes</th></tr>"
    ]
    for s in subs:
        out.append(
            f"<tr class='{esc(str(s.get('status', '')))}'><td class='l'>{esc(str(s.get('name', '?')))}</td>"
            + "".join(f"<td>{_fmt(s.get('metrics', {}).get(c))}</td>" for c in cols)
            + f"<td>{_fmt(s.get('n_test'))}</td><td>{_fmt(s.get('fit_s'), 2)}</td><td>{_fmt(s.get('score_s'), 2)}</td>"
            f"<td class='l'>{esc(str(s.get('status', '')))}</td><td class='l'>{esc(_subset_notes(s))}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _html_params(resolved: list[dict[str, Any]], shown: str) -> str:
    """Every parameter of a dataset, collapsed under its heading (the heading names only the changed ones)."""
    params = labels.parameters(resolved)
    if not params:
        return ""
    esc = html.escape
    stored = str(resolved[0].get("label", "?"))
    rows_ = "".join(f"<tr><td><code>{esc(k)}</code></td><td>{esc(v)}</td></tr>" for k, v in params)
    note = f"<p class='note'>label in the records: {esc(stored)}</p>" if stored != shown else ""
    return (
        f"<details class='params'><summary>all {len(params)} parameters</summary><table>{rows_}</table>"
        f"{note}</details>"
    )


def _html_subset_matrix(records: list[dict[str, Any]], sec: Section, short: str, det: dict[str, str]) -> str:
    """The dataset's headline metric per subset (rows) and detector (columns), best of each row in bold.

    Open when short enough to read at a glance; every metric of every subset is in
    results_subsets.csv.
    """
    esc = html.escape
    detectors = [b["detector"] for b in sec.rows]
    matrix = _subset_matrix(records, sec.dataset, sec.columns[0])
    if matrix is None:
        return ""
    subsets, cells = matrix
    lower = not getattr(
        _metric_cards().get(_metric_ids(records).get(sec.columns[0], sec.columns[0])),
        "higher_is_better",
        True,
    )
    out = [
        f"<details class='per-subset'{' open' if len(subsets) <= 20 else ''}><summary>{esc(short)} per subset "
        f"({len(subsets)} subsets; mean over seeds; best of each row in bold)</summary>"
        "<table><tr><th class='l'>subset</th>"
        + "".join(f"<th title='{esc(d)}'>{labels.wrappable(det.get(d, d))}</th>" for d in detectors)
        + "</tr>"
    ]
    for sub in subsets:
        values = [v for d in detectors if (v := cells.get((sub, d), ("", None))[1]) is not None]
        best = (min(values) if lower else max(values)) if values else None
        row = []
        for d in detectors:
            text, value = cells.get((sub, d), ("", None))
            cls = " class='failed'" if text == "failed" else ""
            row.append(
                f"<td{cls}>{'<b>' + esc(text) + '</b>' if value is not None and value == best else esc(text)}</td>"
            )
        out.append(f"<tr><td class='l'>{esc(sub)}</td>{''.join(row)}</tr>")
    out.append(
        "</table><p class='note'>Every metric of every subset, with the data notes: results_subsets.csv.</p>"
        "</details>"
    )
    return "".join(out)


def html_report(
    records: list[dict[str, Any]],
    title: str,
    root: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """The report page; pictures are resolved against ``root`` (the output directory) and inlined.

    Each dataset's example pictures sit right under its table, where readers look first;
    pictures listed in the records but not found are named in a note and through ``warn``
    (default: stderr).
    """
    esc = html.escape
    names = short_names(records)
    root = root if root is not None else Path(".")
    pics = pictures.collect(records, root)
    pictures.warn_missing(pics, root / "report.html", warn)
    det = labels.display_labels("detector", records)
    wrap = labels.wrappable
    secs = sections(records)
    shown = {sec.dataset: sec.display or sec.dataset for sec in secs}
    places = {sec.dataset: f"dataset-{i}" for i, sec in enumerate(secs)}
    anchors: dict[str, str] = {}
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{CSS}</style></head><body>"
    ]
    out.append(
        f"<h1>{esc(title)}</h1><p class='note'>{len(records)} jobs. Metrics are means over subsets; "
        "± is the standard deviation over seeds.</p>"
    )
    out.append(
        summary.html_summary(secs, names, lambda d: shown.get(d, d), lambda d: det.get(d, d), _fmt, places)
    )
    any_dishonest = False
    for sec in secs:
        out.append(f"<a id='{places[sec.dataset]}'></a><h2>{wrap(shown[sec.dataset])}</h2>")
        out.append(_html_params(_resolved(records, "dataset", sec.dataset), shown[sec.dataset]))
        out.append("<table><tr><th class='l'>detector</th>")
        for i, c in enumerate(sec.columns):
            role = (
                " (protocol headline: rows sorted by it)"
                if i == 0
                else " (protocol)"
                if c in sec.protocol
                else ""
            )
            out.append(
                f"<th title='{esc(c + role)}'>{esc(names.get(c, c))}{' †' if c in sec.dishonest else ''}"
                f"{' ▼' if i == 0 else ''}</th>"
            )
        out.append(
            "<th>fit s</th><th>score s</th><th>samples/s</th><th>peak RSS MB</th><th class='l'>status</th></tr>"
        )
        for b in sec.rows:
            cls = b["status"].split("/")[-1]
            out.append(
                f"<tr class='{esc(cls)}'><td class='l' title='{esc(b['detector'])}'>"
                f"{wrap(det.get(b['detector'], b['detector']))}</td>"
            )
            out += [f"<td>{_cell(b, c)}</td>" for c in sec.columns]
            out.append(
                f"<td>{_fmt(b.get('fit_s'), 2)}</td><td>{_fmt(b.get('score_s'), 2)}</td>"
                f"<td>{_fmt(b.get('samples_per_s'), 1)}</td><td>{_fmt(b.get('peak_rss_mb'), 0)}</td>"
                f"<td class='l'>{esc(b['status'])}</td></tr>"
            )
        out.append("</table>")
        if sec.columns:
            out.append(_bars(sec.rows, sec.columns[0], names.get(sec.columns[0], sec.columns[0]), det))
        for b in sec.rows:
            if b.get("adjusted"):
                out.append(
                    f"<p class='note'>Adjusted defaults, {esc(det.get(b['detector'], b['detector']))}: "
                    f"{esc(b['adjusted'])}</p>"
                )
        for b in sec.rows:
            if b.get("data_notes"):
                out.append(
                    f"<p class='note data'>Data notes, {esc(det.get(b['detector'], b['detector']))}: "
                    f"{esc(b['data_notes'])}</p>"
                )
        for b in sec.rows:
            if text := not_computed(b, names):
                out.append(
                    f"<p class='note data'>Metrics not computed, {esc(det.get(b['detector'], b['detector']))}: "
                    f"{esc(text)}</p>"
                )
        if sec.columns:
            out.append(_html_subset_matrix(records, sec, names.get(sec.columns[0], sec.columns[0]), det))
        if sec.hidden:
            out.append(
                f"<p class='note'>Hidden (no honest metric beside them): {esc(', '.join(sec.hidden))}</p>"
            )
        anchors[sec.dataset] = f"examples-{len(anchors)}"
        shown_pics = [
            dataclasses.replace(p, detector=det.get(p.detector, p.detector))
            for p in _gallery_order([p for p in pics if p.dataset == sec.dataset], sec)
        ]
        out.append(pictures.gallery(shown_pics, anchors[sec.dataset]))
        any_dishonest = any_dishonest or bool(sec.dishonest)
    if any_dishonest:
        out.append("<p class='note'>† flatters detectors; read it only beside the honest metrics.</p>")
    out.append("<h2>Jobs</h2>")
    for r in sorted(
        records, key=lambda r: (r.get("dataset", {}).get("label", ""), r.get("detector", {}).get("label", ""))
    ):
        d, ds = r.get("detector", {}), r.get("dataset", {})
        d_label, ds_label = d.get("label", "?"), ds.get("label", "?")
        out.append(
            f"<details><summary>{wrap(det.get(d_label, d_label))} on {wrap(shown.get(ds_label, ds_label))} "
            f"(seed {r.get('seed')}): {esc(r.get('status', '?'))}</summary>"
        )
        if r.get("error"):
            out.append(f"<p><b>Error:</b> {esc(r['error'])}</p>")
        if r.get("data_notes"):
            out.append(f"<p><b>Data notes:</b> {esc(r['data_notes'])}</p>")
        out.append(
            f"<p class='note'>key {esc(str(r.get('key')))} · detector params {esc(str(d.get('params')))} · "
            f"dataset params {esc(str(ds.get('params')))} · environment {esc(str(r.get('environment', {})))}</p>"
        )
        subs = r.get("subsets", [])
        if subs:
            out.append(_html_job_subsets(subs, names))
            listed = [p for p in pics if p.key == str(r.get("key", ""))]
            if listed:
                anchor = anchors.get(ds.get("label", "?"), "")
                refused = sum(bool(p.refused) for p in listed)
                out.append(
                    f"<p class='note'>{len(listed)} example pictures{f' ({refused} refused)' if refused else ''}: "
                    f"<a href='#{esc(anchor)}'>in the gallery under {wrap(shown.get(ds_label, ds_label))}</a></p>"
                )
        out.append("</details>")
    out.append("</body></html>")
    return "".join(out)


def write_all(
    records: list[dict[str, Any]], root: Path, title: str = "omniad results", warn: Any = None
) -> dict[str, Path]:
    """Write results.csv, results.parquet (if possible), their per-subset twins results_subsets.csv /
    .parquet, results.md and report.html under ``root``.

    Without pyarrow the parquet file is left out and ``warn`` (default: stderr) says so,
    since the docs promise it; the other files are written all the same.
    """
    root.mkdir(parents=True, exist_ok=True)
    written = {"csv": write_csv(records, root / "results.csv")}
    parquet = write_parquet(records, root / "results.parquet")
    if parquet is not None:
        written["parquet"] = parquet
    else:
        import sys

        (warn or (lambda msg: print(msg, file=sys.stderr)))(
            f"{root / 'results.parquet'} and {root / 'results_subsets.parquet'} not written: pyarrow is not "
            "installed; pip install 'omniad[parquet]' to get them"
        )
    written["subsets_csv"] = write_subsets_csv(records, root / "results_subsets.csv")
    if parquet is not None and (
        sub_parquet := write_subsets_parquet(records, root / "results_subsets.parquet")
    ):
        written["subsets_parquet"] = sub_parquet
    (root / "results.md").write_text(markdown(records, title))
    written["markdown"] = root / "results.md"
    (root / "report.html").write_text(html_report(records, title, root, warn))
    written["html"] = root / "report.html"
    return written
