"""BGL and Thunderbird: per-line alert labels, lines cut into windows.

Each raw line starts with its label: ``-`` for a non-alert line, otherwise the alert
category (``KERNDTLB``, ``APPSEV``...). The label is read from that first token even when
the rest of the line does not match the header format, so a malformed line keeps its
truth. A window is anomalous when any of its lines is; the per-line labels are its
localization target. Windows (fixed or sliding, by lines or by seconds) and the
chronological train/test rule are ``WindowParams`` / ``SplitParams``: train = the normal
windows among the first ``train_fraction`` of windows, test = the rest (and the anomalous
windows of the train period, counted as ``train_period_anomalies_to_test``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_logs.datasets.base import LogDataset, header_args, list_logs, parse_log, windowed_subset
from omniad_logs.datasets.own import whole_log
from omniad_logs.datasets.params import BGLParams
from omniad_logs.datasets.reading import require_path, shared_data_root

CATEGORY = re.compile(r"[A-Z][A-Z0-9_]*\Z")


def first_token_labels(raw: list[str]) -> tuple[np.ndarray, Counter[str], int]:
    """0/1 per line from its first token, the count of each alert category, and lines without a label.

    ``-`` is normal, an upper-case token (``KERNDTLB``, ``PBS_CHK``) is its alert category;
    any other first token (a stray continuation line) carries no label: it counts as normal
    and is counted, so a garbled line never becomes an alert of category "this".
    """
    labels = np.zeros(len(raw), dtype=np.int8)
    categories: Counter[str] = Counter()
    unlabelled = 0
    for i, line in enumerate(raw):
        parts = line.split(None, 1)
        token = parts[0] if parts else ""
        if token == "-":
            continue
        if CATEGORY.match(token):
            labels[i] = 1
            categories[token] += 1
        else:
            unlabelled += 1
    return labels, categories, unlabelled


class BGL(LogDataset):
    """One subset per raw log file, windows of lines with per-line alert labels."""

    Params = BGLParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        path = require_path(p.path if p.path is not None else shared_data_root() / "data" / "loghub" / "BGL",
                            "path", self.where)
        for file in list_logs(path, p.pattern, "path", self.where):
            if p.split == "all":  # own data: labels from the first tokens, an all-normal log allowed
                yield whole_log(self, file, path, log_format=p.log_format if p.log_format is not None else p.system,
                                session_pattern=None)
                continue
            where = f"{self.where}: {file.name}"
            parsed = parse_log(file, where, **header_args(self, p.system, p.log_format, file, where),
                               encoding=p.encoding, max_line_chars=p.max_line_chars, events=p.events,
                               structured=p.structured, miner=self.file_miner() if p.events == "parse" else None)
            self.mark_new(parsed, where)
            labels, categories, unlabelled = first_token_labels(parsed.raw)
            if not labels.any():
                raise DataError(
                    f"{where}: no line is labelled as an alert (every first token is '-'); this is not a "
                    "labelled BGL/Thunderbird log — use logs.loghub for unlabelled logs"
                )
            counts = {**parsed.counts, "lines_without_label": unlabelled}
            yield windowed_subset(parsed, file.stem, where, line_labels=labels, windows=p, split=p, counts=counts,
                                  meta={"path": str(file), "alert_categories": dict(categories.most_common())})
