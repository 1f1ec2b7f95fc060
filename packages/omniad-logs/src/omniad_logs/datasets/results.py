"""Pictures of scored own logs: the ranked lines people read first, and every session's score.

``render_results`` writes, for one scored source:

- ``top_lines.html`` and ``top_lines.md``: the highest-scored lines (flagged first), each with its
  score, whether it was flagged, its session, file and line number, template and raw text — the
  answer to "which lines of my log are anomalous"; a line in several windows appears once, with
  its highest score. Detectors without per-line scores (IForest, OCSVM, ``logs.counts``) rank
  sessions instead: the lines of the highest-scored sessions, with the session's score;
- ``session_scores.png`` (with matplotlib): every session's score in file order, the sample
  threshold as a line, flagged sessions in red. The HTML page holds the same bars, so it reads
  without matplotlib.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omniad.data import Split
from omniad.decision import Decisions

#: lines listed in the ranked tables
TOP_LINES = 30
#: sessions drawn in the HTML bars (the highest-scored ones beyond that are listed, the rest counted)
MAX_BARS = 400
RAW_CHARS = 240


@dataclass
class Line:
    score: float
    flagged: int | None
    session: str
    file: str
    line: int
    template: str
    event: str
    raw: str
    new: int | None
    per_line: bool
    label: int | None = None


def _lines(split: Split, decisions: Decisions) -> list[Line]:
    """Every scored line (deduplicated over overlapping windows: highest score kept)."""
    from omniad_logs.datasets.own import element_columns

    scores = decisions.scores
    best: dict[tuple[str, int], Line] = {}
    for i, session in enumerate(split.samples):
        n = len(session)
        cols = element_columns(session, n)
        sid = split.sample_id(i)
        if scores.local is not None:
            local = np.asarray(scores.local[i], dtype=np.float64).reshape(-1)
            flags = None if decisions.element is None else np.asarray(decisions.element[i]).reshape(-1)
            per_line = True
        else:
            local = np.full(n, float(scores.sample[i]))
            flags = None if decisions.sample is None else np.full(n, int(decisions.sample[i]))
            per_line = False
        truth = None if split.targets is None else np.asarray(split.targets[i]).reshape(-1)
        for j in range(n):
            key = (cols.get("file", [""] * n)[j] if "file" in cols else sid, int(cols["line"][j]))
            item = Line(float(local[j]), None if flags is None else int(flags[j]), sid, key[0] if "file" in cols else "",
                        key[1], str(cols["template"][j]), str(cols["event"][j]),
                        str(cols.get("raw", cols["template"])[j]),
                        int(cols["new_template"][j]) if "new_template" in cols else None, per_line,
                        None if truth is None or truth.size != n else int(truth[j]))
            if key not in best or item.score > best[key].score:
                best[key] = item
    return list(best.values())


def ranked(lines: list[Line], limit: int = TOP_LINES) -> list[Line]:
    """The ``limit`` highest-scored lines, flagged ones first; ties in file order."""
    return sorted(lines, key=lambda x: (-(x.flagged or 0), -x.score, x.file, x.line))[:limit]


def by_template(lines: list[Line], limit: int = TOP_LINES) -> list[tuple[str, int, float, Line]]:
    """Templates of the flagged lines (or of the top-scored ones when nothing is flagged): how many, best score, where.

    The ranked lines repeat one template when an anomaly is a burst; this says which distinct
    kinds of line were flagged, each with its highest-scored occurrence.
    """
    pool = [x for x in lines if x.flagged] or sorted(lines, key=lambda x: -x.score)[:limit]
    groups: dict[str, list[Line]] = {}
    for x in pool:
        groups.setdefault(x.event, []).append(x)
    out = [(xs[0].template, len(xs), max(x.score for x in xs), max(xs, key=lambda x: (x.score, -x.line)))
           for xs in groups.values()]
    return sorted(out, key=lambda t: (-t[2], -t[1]))[:limit]


def _cut(text: str, limit: int = RAW_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flag(value: int | None) -> str:
    return "" if value is None else ("ANOMALY" if value else "ok")


def _label(value: int | None) -> str:
    return "" if value is None else ("anomalous" if value else "normal")


def markdown(rows: list[Line], templates: list[tuple[str, int, float, Line]], title: str, note: str) -> str:
    def cell(text: str) -> str:
        return _cut(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")

    labelled = any(r.label is not None for r in rows)
    out = [f"# {title}", "", note, "", "| # | score | flag |" + (" label |" if labelled else "")
           + " session | file:line | template | raw line |",
           "|---:|---:|---|" + ("---|" if labelled else "") + "---|---|---|---|"]
    for k, r in enumerate(rows, start=1):
        new = " (new template)" if r.new else ""
        where = f"{r.file}:{r.line}" if r.file else str(r.line)
        out.append(f"| {k} | {r.score:.4g} | {_flag(r.flagged)} |" + (f" {_label(r.label)} |" if labelled else "")
                   + f" {cell(r.session)} | {cell(where)} | `{cell(r.template)}`{new} | `{cell(r.raw)}` |")
    if templates:
        out += ["", "## Templates of these lines", "", "| template | lines | best score | first best line |",
                "|---|---:|---:|---|"]
        for template, count, best, line in templates:
            where = f"{line.file}:{line.line}" if line.file else str(line.line)
            out.append(f"| `{cell(template)}` | {count} | {best:.4g} | {cell(where)} |")
    return "\n".join(out) + "\n"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-size:12px;white-space:pre-wrap;word-break:break-all}
tr.flag td{background:#fff0f0} .new{color:#a40;font-size:11px}
.bar{display:inline-block;height:10px;background:#79b} .bar.flag{background:#d33}
.bars td{padding:1px 6px;border:0;font-size:12px}
"""


def html_page(rows: list[Line], templates: list[tuple[str, int, float, Line]],
              sessions: list[tuple[str, float, int | None]], threshold: float | None, title: str, note: str) -> str:
    e = html.escape
    labelled = any(r.label is not None for r in rows)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style>"
             f"</head><body><h2>{e(title)}</h2><p>{e(note)}</p>",
             "<table><tr><th>#</th><th>score</th><th>flag</th>" + ("<th>label</th>" if labelled else "")
             + "<th>session</th><th>file:line</th><th>template</th><th>raw line</th></tr>"]
    for k, r in enumerate(rows, start=1):
        new = " <span class='new'>new template</span>" if r.new else ""
        where = f"{r.file}:{r.line}" if r.file else str(r.line)
        parts.append(f"<tr class='{'flag' if r.flagged else ''}'><td class='num'>{k}</td>"
                     f"<td class='num'>{r.score:.4g}</td><td>{_flag(r.flagged)}</td>"
                     + (f"<td>{_label(r.label)}</td>" if labelled else "")
                     + f"<td>{e(r.session)}</td><td>{e(where)}</td><td><code>{e(_cut(r.template))}</code>{new}</td>"
                     f"<td><code>{e(_cut(r.raw))}</code></td></tr>")
    parts.append("</table>")
    if templates:
        parts.append("<h3>Templates of these lines</h3><table><tr><th>template</th><th>lines</th><th>best score</th>"
                     "<th>first best line</th></tr>")
        for template, count, best, line in templates:
            where = f"{line.file}:{line.line}" if line.file else str(line.line)
            parts.append(f"<tr><td><code>{e(_cut(template))}</code></td><td class='num'>{count}</td>"
                         f"<td class='num'>{best:.4g}</td><td>{e(where)}</td></tr>")
        parts.append("</table>")
    if sessions:
        top = max((s for _, s, _ in sessions), default=0.0)
        scale = top if top > 0 else 1.0
        shown = sessions if len(sessions) <= MAX_BARS else sorted(sessions, key=lambda s: -s[1])[:MAX_BARS]
        parts.append(f"<h3>Session scores ({len(sessions)} sessions"
                     + (f", the {MAX_BARS} highest shown" if len(shown) < len(sessions) else ", in file order")
                     + (f"; threshold {threshold:.4g}" if threshold is not None else "") + ")</h3><table class='bars'>")
        for sid, score, flag in shown:
            width = max(0.0, score) / scale * 400
            parts.append(f"<tr><td>{e(sid)}</td><td class='num'>{score:.4g}</td><td><span class='bar"
                         f"{' flag' if flag else ''}' style='width:{width:.1f}px'></span> {_flag(flag)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def session_png(sessions: list[tuple[str, float, int | None]], threshold: float | None, title: str,
                path: Path) -> Path | None:
    """Bars of every session's score in file order (matplotlib; None without it)."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    n = len(sessions)
    fig, ax = plt.subplots(figsize=(11, 3.2))
    x = np.arange(n)
    values = np.array([s for _, s, _ in sessions], dtype=np.float64)
    colours = ["tab:red" if f else "tab:blue" for _, _, f in sessions]
    ax.bar(x, values, color=colours, width=1.0 if n > 60 else 0.8)
    if threshold is not None and np.isfinite(threshold):
        ax.axhline(threshold, color="black", lw=0.8, ls="--", label=f"threshold {threshold:.4g}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(-0.5, max(n - 0.5, 0.5))
    ax.set_xlabel("session (file order)")
    ax.set_ylabel("score")
    ax.set_title(title.replace("$", r"\$"), fontsize=9)
    if n <= 30:
        ax.set_xticks(x, [sid[-24:] for sid, _, _ in sessions], rotation=60, ha="right", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def render_results(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = _lines(split, decisions)
    rows = ranked(lines, max(TOP_LINES, max_items))
    templates = by_template(lines)
    flagged = None if decisions.sample is None else int(np.sum(decisions.sample))
    per_line = bool(rows) and rows[0].per_line
    n_sessions = len(split.samples)
    title = f"Top {len(rows)} log lines by score" if per_line else "Lines of the top sessions by score (no per-line scores)"
    note = (f"{n_sessions} sessions" + (f", {flagged} flagged" if flagged is not None else "")
            + ("; line scores" + (f", element threshold {decisions.element_threshold:.4g}"
                                  if decisions.element_threshold is not None else "") if per_line
               else "; this detector scores whole sessions, so each line shows its session's score"))
    sessions = [(split.sample_id(i), float(decisions.scores.sample[i]),
                 None if decisions.sample is None else int(decisions.sample[i])) for i in range(n_sessions)]
    paths: list[Path] = []
    md = out_dir / "top_lines.md"
    md.write_text(markdown(rows, templates, title, note), encoding="utf-8")
    page = out_dir / "top_lines.html"
    page.write_text(html_page(rows, templates, sessions, decisions.sample_threshold, title, note), encoding="utf-8")
    paths += [page, md]
    png = session_png(sessions, decisions.sample_threshold, f"session scores ({note})", out_dir / "session_scores.png")
    if png is not None:
        paths.append(png)
    return paths
