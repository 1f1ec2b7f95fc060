"""The picture people read first after scoring texts: the most anomalous ones, ranked, with their scores.

A text is read, not looked at, so the "picture" is one self-contained HTML page
(``most_anomalous.html``; no scripts, no imaging library): rank, name, score, decision, label
when known, and the start of each text, with a rule where the scores cross the threshold; and
the same list as a markdown table (``most_anomalous.md``) to read in a terminal.
The flagged texts are listed by score (up to ``RANKED`` rows), then the highest-scored texts
decided normal (the near misses: at least ``NEAR`` however many are flagged), so the page shows
where the threshold falls.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from omniad.data import Split
from omniad.decision import Decisions

#: rows of the ranked list (at least; a larger ``max_items`` lists more)
RANKED = 20
#: characters of each text shown (the whole text is in the row's tooltip, up to ``TOOLTIP``)
SNIPPET = 300
TOOLTIP = 2000
#: texts decided normal listed below the flagged ones however many are flagged (the near misses)
NEAR = 3
FILENAME = "most_anomalous.html"
#: characters of each text in the markdown copy (read in a terminal)
MARKDOWN_SNIPPET = 160
_SPACE = re.compile(r"\s+")

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.flag td.decision { color: #b00020; font-weight: 600; }
tr.cut td { border-top: 2px dashed #b00020; }
td.text { max-width: 60em; }
.note { color: #555; }
"""


def snippet(text: object, limit: int = SNIPPET) -> str:
    """The start of a text on one line: whitespace runs collapsed, cut at a word with an ellipsis."""
    flat = _SPACE.sub(" ", str(text)).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"


def ranked_order(decisions: Decisions, rows: int) -> list[int]:
    """The flagged texts by score, then the highest-scored texts decided normal (at least ``NEAR`` of them
    in a list of 12 or more rows, so the threshold shows); ``rows`` in all. Without decisions: the top by score."""
    scores = np.asarray(decisions.scores.sample, dtype=np.float64)
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    if decisions.sample is None:
        return order[:rows]
    flagged = [i for i in order if decisions.sample[i]]
    normal = [i for i in order if not decisions.sample[i]]
    near = min(NEAR, len(normal), rows // 4)  # in a short list, the flagged texts come first
    chosen = flagged[: rows - near]
    return chosen + normal[: rows - len(chosen)]


def render_ranked(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
    """Write ``most_anomalous.html`` and ``.md`` in ``out_dir``; returns their paths (none for ``max_items <= 0``)."""
    if max_items <= 0 or len(decisions.scores.sample) == 0:
        return []
    scores = np.asarray(decisions.scores.sample, dtype=np.float64)
    decided = decisions.sample
    n = len(scores)
    rows = ranked_order(decisions, max(RANKED, max_items))
    threshold = decisions.sample_threshold
    n_flagged = int(np.sum(decided)) if decided is not None else None
    if n_flagged is None:
        heading = f"{n} texts scored (the model has no threshold: scores only)"
    else:
        heading = f"{n_flagged} of {n} texts flagged as anomalous (score above {threshold:.6g})"
    head = ["#", "text", "score", "decision", *(["label"] if split.labels is not None else []), "start of the text"]
    body = []
    for rank, i in enumerate(rows, start=1):
        flag = decided is not None and bool(decided[i])
        # the rule under the last flagged text: where the scores cross the threshold
        cut = decided is not None and not flag and rank > 1 and bool(decided[rows[rank - 2]])
        decision = "—" if decided is None else ("ANOMALY" if flag else "normal")
        text = split.samples[i]
        cells = [
            f'<td class="num">{rank}</td>',
            f"<td>{html.escape(split.sample_id(i))}</td>",
            f'<td class="num">{scores[i]:.6g}</td>',
            f'<td class="decision">{decision}</td>',
        ]
        if split.labels is not None:
            cells.append(f"<td>{'anomalous' if split.labels[i] else 'normal'}</td>")
        tooltip = html.escape(str(text)[:TOOLTIP], quote=True)
        cells.append(f'<td class="text" title="{tooltip}">{html.escape(snippet(text))}</td>')
        classes = " ".join(c for c, on in (("flag", flag), ("cut", cut)) if on)
        body.append((f'<tr class="{classes}">' if classes else "<tr>") + "".join(cells) + "</tr>")
    shown = sum(1 for i in rows if decided is not None and decided[i])
    more = ""
    if n_flagged is not None and n_flagged > shown:
        more = f'<p class="note">{n_flagged - shown} more flagged texts are not listed here; samples.csv has every score.</p>'
    page = (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Most anomalous texts</title>"
        f"<style>{_STYLE}</style></head><body>\n<h2>Most anomalous texts</h2>\n<p>{html.escape(heading)}; "
        f"{len(rows)} listed by score. Hover over a text to read more of it.</p>\n<table>\n<tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>\n" + "\n".join(body) + "\n</table>\n"
        + more + "\n</body></html>\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    path.write_text(page, encoding="utf-8")
    lines = [f"# Most anomalous texts\n\n{heading}; {len(rows)} listed by score.\n",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rank, i in enumerate(rows, start=1):
        decision = "—" if decided is None else ("**ANOMALY**" if decided[i] else "normal")
        cells = [str(rank), split.sample_id(i), f"{scores[i]:.6g}", decision]
        if split.labels is not None:
            cells.append("anomalous" if split.labels[i] else "normal")
        cells.append(snippet(split.samples[i], MARKDOWN_SNIPPET))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    markdown = out_dir / FILENAME.replace(".html", ".md")
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path, markdown]
