"""The parser on real loghub samples: header formats and grouping accuracy (skipped without shared data)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from omniad_logs.parsing import LOG_FORMATS, LogFormat, TemplateMiner, grouping_accuracy, parsing_accuracy

REPO = Path(__file__).resolve().parents[3]
LOGHUB = Path(os.environ.get("OMNIAD_SHARED_DATA", REPO.parent / "shared")) / "data" / "loghub"
SYSTEMS = ("Apache", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "OpenSSH", "Proxifier", "Spark", "Zookeeper")
# drain3 0.9.11 grouping accuracy, default settings (../shared/design/targets.md): the anchor to beat
DRAIN3_GA = {"Apache": 1.000, "BGL": 0.969, "HDFS": 0.998, "HPC": 0.741, "Hadoop": 0.954, "Linux": 0.684,
             "OpenSSH": 0.718, "Proxifier": 0.026, "Spark": 0.923, "Zookeeper": 0.967}

needs_loghub = pytest.mark.skipif(
    not (LOGHUB / "HDFS" / "HDFS_2k.log_structured.csv").is_file(),
    reason=f"loghub 2k samples not found at {LOGHUB} (set OMNIAD_SHARED_DATA to the shared folder)",
)


def structured(system: str) -> list[dict[str, str]]:
    with (LOGHUB / system / f"{system}_2k.log_structured.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@needs_loghub
@pytest.mark.parametrize("system", SYSTEMS)
def test_header_format_gives_loghub_content(system):
    fmt = LogFormat(LOG_FORMATS[system])
    lines = (LOGHUB / system / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()
    rows = structured(system)
    assert len(lines) == len(rows) == 2000
    parsed = [fmt.parse(line) for line in lines]
    assert all(p is not None for p in parsed), f"{system}: {sum(p is None for p in parsed)} lines unmatched"
    assert [p["Content"] for p in parsed] == [r["Content"] for r in rows]


@needs_loghub
def test_grouping_accuracy_on_loghub():
    """Measured with the default setting, ``parse_batch``: mean GA 0.992, PA 0.784 (docs/parsing.md); fail on a regression.

    These bars sit close to the measured values on purpose: parsing is string work only (no
    floats, no threads, no timing), and the results were the same with PYTHONHASHSEED 0, 1 and 2,
    so every machine gets exactly these numbers (GA: HDFS 1.0, OpenSSH 0.9985, Proxifier 1.0,
    Linux 0.999, Spark 0.999, HPC 0.9505). Linux and Spark were 0.8215 and 0.9245 before the
    batch split groups by their enumerated columns (``split_values``).
    """
    ga, pa = {}, {}
    for system in SYSTEMS:
        rows = structured(system)
        results = TemplateMiner().parse_batch([r["Content"] for r in rows])
        ga[system] = grouping_accuracy([r["EventId"] for r in rows], [r.event_id for r in results])
        pa[system] = parsing_accuracy([r["EventTemplate"] for r in rows], [r.template for r in results])
    assert sum(ga.values()) / len(ga) >= 0.985, ga
    assert sum(pa.values()) / len(pa) >= 0.78, pa
    assert min(ga[s] for s in ("HDFS", "OpenSSH", "Proxifier")) >= 0.99, ga
    assert ga["Linux"] >= 0.99 and ga["Spark"] >= 0.99 and ga["HPC"] >= 0.94, ga
    beaten = {s: (round(v, 3), DRAIN3_GA[s]) for s, v in ga.items() if v < DRAIN3_GA[s]}
    assert not beaten, f"below drain3 on {beaten}"


@needs_loghub
def test_grouping_accuracy_on_loghub_live():
    """``add`` line by line (ids as a live parse sees them, no batch split): mean GA 0.966, PA 0.776.

    Linux 0.8215 and Spark 0.9245 here: a stream must decide at a group's second line whether a
    differing word is a variable (docs/parsing.md, "One setting for every system").
    """
    ga, pa = {}, {}
    for system in SYSTEMS:
        rows = structured(system)
        miner = TemplateMiner()
        ids = [miner.add(r["Content"]).event_id for r in rows]
        templates = miner.templates()
        ga[system] = grouping_accuracy([r["EventId"] for r in rows], ids)
        pa[system] = parsing_accuracy([r["EventTemplate"] for r in rows], [templates[i] for i in ids])
    assert sum(ga.values()) / len(ga) >= 0.96, ga
    assert sum(pa.values()) / len(pa) >= 0.77, pa
    assert min(ga[s] for s in ("HDFS", "OpenSSH", "Proxifier")) >= 0.98, ga
    assert ga["Linux"] >= 0.8 and ga["HPC"] >= 0.94, ga
    beaten = {s: (round(v, 3), DRAIN3_GA[s]) for s, v in ga.items() if v < DRAIN3_GA[s]}
    assert not beaten, f"below drain3 on {beaten}"
