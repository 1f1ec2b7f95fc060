"""Any loghub system's raw log, in windows: labelled where the lines carry labels, else for inspection.

loghub ships raw ``<System>_2k.log`` files for sixteen systems, but only BGL and
Thunderbird lines carry anomaly labels (their first token). So:

- the header format comes from ``system`` (default: the file name up to the first ``_``)
  through ``omniad_logs.parsing.LOG_FORMATS``, or from ``log_format``;
- events are mined from the contents (``events="parse"``) or read from the ground-truth
  ``<log>_structured.csv`` (``events="ground_truth"``, for parser-independent studies);
- when the format starts with ``<Label>`` (BGL, Thunderbird) each line's label is its first
  token (``-`` = normal) and windows get labels and per-line targets like ``logs.bgl``; a log
  whose every label is ``-`` (loghub's Thunderbird 2k sample) has no anomaly to score against,
  so it is read as unlabelled (below), with a warning that says so;
- otherwise the subset is **unlabelled** (``meta["labelled"] = False``, all test labels 0,
  no targets, one warning): good for parsing, template statistics and looking at scores,
  not for detection metrics. Id-keyed sessions need a system-specific rule (``logs.hdfs``).

Windows and the train/test rule are the same as ``logs.bgl``'s.

``split='all'`` reads your own logs (``omniad fit / score / detect`` on a bare ``.log`` / ``.txt``
or a folder): the header format is probed (``log_format='auto'``), sessions are windows or
``session_pattern`` ids, and nothing needs labels; see ``own``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import ClassVar

from omniad.data import Subset
from omniad.errors import DataError
from omniad_logs.datasets.base import LogDataset, header_args, list_logs, parse_log, windowed_subset
from omniad_logs.datasets.bgl import first_token_labels
from omniad_logs.datasets.own import whole_log
from omniad_logs.datasets.params import LoghubParams
from omniad_logs.datasets.reading import require_path


class Loghub(LogDataset):
    """One subset per raw log file; windows over its lines."""

    Params = LoghubParams
    require_anomalies: ClassVar[bool] = False  # unlabelled systems are yielded for inspection

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        path = require_path(p.path, "path", self.where)
        for file in list_logs(path, p.pattern, "path", self.where):
            if p.split == "all":
                yield whole_log(self, file, path, log_format=p.log_format if p.log_format is not None else p.system,
                                session_pattern=p.session_pattern)
                continue
            if p.session_pattern is not None:
                raise DataError(f"{self.where}: session_pattern needs split='all' (logs.hdfs groups a benchmark log "
                                "by ids); drop it to use windows")
            counts: dict[str, int] = {}
            where = f"{self.where}: {file.name}"
            header = header_args(self, p.system, p.log_format, file, where)
            parsed = parse_log(file, where, **header, encoding=p.encoding, max_line_chars=p.max_line_chars,
                               events=p.events, structured=p.structured,
                               miner=self.file_miner() if p.events == "parse" else None)
            self.mark_new(parsed, where)
            fmt = header["log_format"] if header["header"] is None else header["header"].chosen.spec
            labelled = fmt.lstrip().startswith("<Label>")
            meta: dict[str, object] = {"path": str(file), "log_format": fmt}
            labels = None
            if labelled:
                labels, categories, counts["lines_without_label"] = first_token_labels(parsed.raw)
                meta["alert_categories"] = dict(categories.most_common())
            if labels is not None and not labels.any():
                # a label column that never says "alert" (Thunderbird's 2k sample): no truth to score against,
                # and no setting of the windows or the split can make one; read it like any unlabelled log
                labels = None
                warnings.warn(f"{where}: every line's label is '-' (normal): this log carries no anomaly labels, so "
                              "this subset is unlabelled, for parsing and inspection only (test labels are all 0; "
                              "detection metrics are undefined). Detectors still score it: 'omniad detect' on the "
                              "file, or split='all' (fit on every window, score every window)", stacklevel=2)
            elif labels is None:
                warnings.warn(f"{where}: the lines carry no labels, so this subset is for parsing and inspection "
                              "only (test labels are all 0; detection metrics are undefined)", stacklevel=2)
            subset = windowed_subset(parsed, file.stem, where, line_labels=labels, windows=p, split=p,
                                     counts={**parsed.counts, **counts}, meta=meta)
            if labels is not None and subset.test.n_anomalous == 0:
                raise DataError(f"{where}: every window with an alert line was dropped as shorter than "
                                f"min_session_length={p.min_session_length}; lower min_session_length")
            yield subset
