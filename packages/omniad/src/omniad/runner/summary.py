"""The summary across datasets at the top of results.md and report.html (two datasets or more).

Per dataset: its protocol's headline metric (``report.protocol_columns``) and the best
detector on it. Across datasets: a detectors x datasets table of those headline values,
best of each dataset in bold, and each detector's mean rank. Ranks are taken per dataset
among the detectors with a value there (1 = best, ties share their average rank) and averaged
over the datasets a detector has a value on; the count is shown beside it, because a detector
ranked on one dataset is not comparable with one ranked on ten. Detectors that never meet on
a dataset (a grid paired by modality) are in separate tables: one per group of datasets that
share detectors.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omniad.runner.labels import wrappable

NOTE = ("Each dataset is scored by its protocol metric: the first metric its card names, else the first "
        "honest metric its jobs requested.")
RANKS = ("Rank 1 = best on a dataset; ties share their average rank; the mean is over the datasets a detector "
         "has a value on (their number in brackets).")


@dataclass
class Headline:
    """One dataset's headline metric and each detector's value on it (mean over seeds)."""

    dataset: str
    metric: str
    lower: bool
    values: dict[str, float]
    #: detectors that ran on the dataset without a value (failed, skipped)
    without: list[str]

    def best(self) -> list[str]:
        if not self.values:
            return []
        top = (min if self.lower else max)(self.values.values())
        return [d for d, v in self.values.items() if v == top]

    def ranks(self) -> dict[str, float]:
        """Detector -> rank on this dataset (1 = best; ties share their average rank)."""
        ordered = sorted(self.values.items(), key=lambda kv: kv[1] if self.lower else -kv[1])
        out: dict[str, float] = {}
        i = 0
        while i < len(ordered):
            j = i
            while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[i][1]:
                j += 1
            for k in range(i, j + 1):
                out[ordered[k][0]] = (i + j) / 2 + 1
            i = j + 1
        return out


def headlines(sections: list[Any]) -> list[Headline]:
    """The headline of every section that has one (``report.Section`` objects, best rows first)."""
    out = []
    for sec in sections:
        if not sec.columns:
            continue
        metric = sec.columns[0]
        values = {}
        without = []
        for row in sec.rows:
            value = row.get(metric)
            if isinstance(value, (int, float)) and not math.isnan(value):
                values[row["detector"]] = float(value)
            else:
                without.append(row["detector"])
        out.append(Headline(sec.dataset, metric, sec.lower, values, without))
    return out


def groups(heads: list[Headline]) -> list[list[Headline]]:
    """Datasets linked by the detectors they share, in order of first appearance."""
    out: list[list[Headline]] = []
    members: list[set[str]] = []
    for head in heads:
        detectors = set(head.values) | set(head.without)
        touching = [i for i, m in enumerate(members) if m & detectors]
        merged = [h for i in touching for h in out[i]] + [head]
        merged_members = set().union(detectors, *(members[i] for i in touching))
        for i in reversed(touching):
            del out[i], members[i]
        out.append(merged)
        members.append(merged_members)
    order = {h.dataset: n for n, h in enumerate(heads)}
    for group in out:
        group.sort(key=lambda h: order[h.dataset])
    out.sort(key=lambda g: order[g[0].dataset])
    return out


def mean_ranks(group: list[Headline]) -> dict[str, tuple[float, int]]:
    """Detector -> (mean rank, number of datasets ranked on), best first."""
    collected: dict[str, list[float]] = {}
    for head in group:
        for detector, rank in head.ranks().items():
            collected.setdefault(detector, []).append(rank)
    means = {d: (sum(r) / len(r), len(r)) for d, r in collected.items()}
    return dict(sorted(means.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0])))


def _detectors(group: list[Headline]) -> list[str]:
    ranked = list(mean_ranks(group))
    rest = [d for h in group for d in h.without if d not in ranked]
    return ranked + list(dict.fromkeys(rest))


def _value(head: Headline, detector: str, fmt: Callable[[Any], str]) -> tuple[str, bool]:
    if detector in head.values:
        return fmt(head.values[detector]), detector in head.best()
    return ("failed" if detector in head.without else "—"), False


def markdown(sections: list[Any], names: dict[str, str], shown: Callable[[str], str], det: Callable[[str], str],
             fmt: Callable[[Any], str], cell: Callable[[str], str]) -> list[str]:
    """The summary as Markdown lines; ``names`` maps metric columns to short names, ``shown`` / ``det``
    give dataset / detector display labels, ``cell`` escapes a table cell."""
    heads = headlines(sections)
    if len(heads) < 2:  # one dataset: its own table, best first, is the summary
        return []
    lines = ["## Summary", "", "| dataset | protocol metric | best detector | value |", "|---|---|---|---|"]
    for head in heads:
        best = head.best()
        lines.append(f"| {cell(shown(head.dataset))} | {cell(names.get(head.metric, head.metric))} | "
                     f"{cell(', '.join(det(d) for d in best) or '—')} | "
                     f"{fmt(head.values[best[0]]) if best else '—'} |")
    all_groups = groups(heads)
    for n, group in enumerate(all_groups):
        if len(group) < 2:
            continue
        which = f", group {n + 1} (datasets that share detectors)" if len(all_groups) > 1 else ""
        lines += ["", f"### Detectors x datasets{which}",
                  "", "| detector | " + " | ".join(f"{cell(shown(h.dataset))} ({cell(names.get(h.metric, h.metric))})"
                                                   for h in group) + " | mean rank |",
                  "|" + "|".join(["---"] * (len(group) + 2)) + "|"]
        ranks = mean_ranks(group)
        for detector in _detectors(group):
            cells = []
            for head in group:
                text, top = _value(head, detector, fmt)
                cells.append(f"**{text}**" if top else text)
            rank = f"{ranks[detector][0]:.2f} ({ranks[detector][1]})" if detector in ranks else "—"
            lines.append(f"| {cell(det(detector))} | " + " | ".join(cells) + f" | {rank} |")
    lines += ["", NOTE + (" " + RANKS if any(len(g) > 1 for g in all_groups) else ""), ""]
    return lines


def html_summary(sections: list[Any], names: dict[str, str], shown: Callable[[str], str],
                 det: Callable[[str], str], fmt: Callable[[Any], str], anchors: dict[str, str]) -> str:
    """The summary as HTML; dataset names link to their sections (``anchors``)."""
    esc = html.escape
    heads = headlines(sections)
    if len(heads) < 2:
        return ""

    def link(dataset: str) -> str:
        text = wrappable(shown(dataset))
        return f"<a href='#{esc(anchors[dataset])}'>{text}</a>" if dataset in anchors else text

    out = ["<section class='summary'><h2 id='summary'>Summary</h2>",
           "<table><tr><th class='l'>dataset</th><th class='l'>protocol metric</th><th class='l'>best detector</th>"
           "<th>value</th></tr>"]
    for head in heads:
        best = head.best()
        out.append(f"<tr><td class='l'>{link(head.dataset)}</td>"
                   f"<td class='l' title='{esc(head.metric)}'>{esc(names.get(head.metric, head.metric))}"
                   f"{' (lower is better)' if head.lower else ''}</td>"
                   f"<td class='l'>{', '.join(wrappable(det(d)) for d in best) or '—'}</td>"
                   f"<td>{fmt(head.values[best[0]]) if best else '—'}</td></tr>")
    out.append("</table>")
    all_groups = groups(heads)
    for n, group in enumerate(all_groups):
        if len(group) < 2:
            continue
        if len(all_groups) > 1:
            out.append(f"<h3>Detectors x datasets, group {n + 1} (datasets that share detectors)</h3>")
        else:
            out.append("<h3>Detectors x datasets</h3>")
        out.append("<table class='matrix'><tr><th class='l'>detector</th>"
                   + "".join(f"<th>{link(h.dataset)}<br><span class='note'>{esc(names.get(h.metric, h.metric))}"
                             "</span></th>" for h in group) + "<th>mean rank</th></tr>")
        ranks = mean_ranks(group)
        for detector in _detectors(group):
            cells = []
            for head in group:
                text, top = _value(head, detector, fmt)
                cls = " class='failed'" if text == "failed" else ""
                cells.append(f"<td{cls}>{'<b>' + esc(text) + '</b>' if top else esc(text)}</td>")
            rank = f"{ranks[detector][0]:.2f} ({ranks[detector][1]})" if detector in ranks else "—"
            out.append(f"<tr><td class='l'>{wrappable(det(detector))}</td>{''.join(cells)}<td>{rank}</td></tr>")
        out.append("</table>")
    ranked = any(len(g) > 1 for g in all_groups)
    out.append(f"<p class='note'>{esc(NOTE)}{' ' + esc(RANKS) + ' Best of each dataset in bold.' if ranked else ''}"
               "</p></section>")
    return "".join(out)
