"""The growth benchmarks' arithmetic (tools/scale_common.py): exponents and verdicts on known curves.

No timing here: the numbers are synthetic, so an exponent fit or a verdict that drifted (a sign
error, log base mix-up, the wrong pair of sizes read) fails deterministically.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sc():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("scale_common", ROOT / "tools" / "scale_common.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["scale_common"] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        yield module
    finally:
        sys.modules.pop("scale_common", None)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 3.0])
def test_growth_exponent_recovers_a_power_law(sc, power: float) -> None:  # type: ignore[no-untyped-def]
    ns = [1_000, 4_000, 16_000]
    assert sc.growth_exponent(ns, [3.0 * n**power for n in ns]) == pytest.approx(power, abs=1e-12)


def test_growth_exponent_matches_numpy_least_squares(sc) -> None:  # type: ignore[no-untyped-def]
    ns = [50, 200, 800]
    ys = [0.9, 5.1, 61.0]
    slope = np.polyfit(np.log(ns), np.log(ys), 1)[0]
    assert sc.growth_exponent(ns, ys) == pytest.approx(slope, rel=1e-9)


def test_growth_exponent_refuses_a_single_size(sc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="two"):
        sc.growth_exponent([100], [1.0])
    with pytest.raises(ValueError, match="two different sizes"):
        sc.growth_exponent([100, 100], [1.0, 2.0])


def test_nlogn_exponent_is_a_little_above_one(sc) -> None:  # type: ignore[no-untyped-def]
    # by hand: (log(16n log 16n) - log(n log n)) / log 16 at n = 100k
    n = 100_000
    by_hand = (math.log(16 * n * math.log(16 * n)) - math.log(n * math.log(n))) / math.log(16)
    assert sc.nlogn_exponent([n, 16 * n]) == pytest.approx(by_hand, rel=1e-12)
    assert 1.0 < by_hand < 1.1


def test_verdict_separates_linear_nlogn_and_quadratic(sc) -> None:  # type: ignore[no-untyped-def]
    ns = [10_000, 40_000, 160_000]
    assert sc.verdict(ns, [1e-4 * n for n in ns])[2] == "within n log n"
    assert sc.verdict(ns, [1e-5 * n * math.log(n) for n in ns])[2] == "within n log n"
    all_b, last_b, word = sc.verdict(ns, [1e-9 * n * n for n in ns])
    assert word == "faster than n log n"
    assert all_b == pytest.approx(2.0) and last_b == pytest.approx(2.0)


def test_verdict_reads_the_last_two_sizes_and_skips_missing_ones(sc) -> None:  # type: ignore[no-untyped-def]
    # flat start (fixed cost), quadratic end: the verdict follows the end
    _, last_b, word = sc.verdict([100, 400, 1600], [10.0, 10.5, 168.0])
    assert last_b == pytest.approx(math.log(168.0 / 10.5) / math.log(4))  # n from 400 to 1600
    assert word == "faster than n log n"
    assert sc.verdict([100, 400, 1600], [1.0, 4.0, None])[1] == pytest.approx(1.0)
    assert sc.verdict([100, 400, 1600], [1.0, None, None])[2] == "not enough sizes measured"
    assert sc.verdict([100, 400, 1600], [0.001, 0.004, 0.05])[2].startswith("too fast to tell")


def test_replace_block_replaces_only_its_own_block(sc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "scale.md"
    doc.write_text("intro\n<!-- a:start -->\nold a\n<!-- a:end -->\n<!-- b:start -->\nold b\n<!-- b:end -->\n")
    sc.replace_block(doc, "a", "new a")
    sc.replace_block(doc, "c", "new c")
    text = doc.read_text()
    assert "new a" in text and "old a" not in text and "old b" in text
    assert text.rstrip().endswith("<!-- c:start -->\nnew c\n<!-- c:end -->")
