"""CAR (issue 29): the context tree, the tails, the burst counts, per-kind detection on the synthetic
events (bursts only through time), per-sequence scores, patterns, and the bad-input rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from omniad.errors import DataError
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad_events.detectors.car_time import SequenceCounts, closeness, neighbours, seconds, sequence_order
from omniad_events.detectors.car_tree import ContextTree
from omniad_events.detectors.tails import Tail
from omniad_events.events import EventSchema, EventTable

TINY = {"epochs": 2, "dim": 4, "min_steps": 20}


def _car(**params: Any) -> Any:
    return get_registry().get("detector", "events.car").create({**TINY, **params}, device="cpu", seed=0)


# -- the context tree ------------------------------------------------------------------------------
SEQS = [np.array([0, 1, 0, 1, 0, 1, 2]), np.array([0, 1, 1, 0])]


def _tree(**kw: Any) -> ContextTree:
    return ContextTree.fit(
        SEQS, **{"depth": 2, "n_values": 4, "min_count": 1, "discount": 0.5, "strength": 1.0, **kw}
    )


def test_tree_probabilities_sum_to_one_in_every_context() -> None:
    tree = _tree()
    for ctx in ([], [0], [1], [0, 1], [1, 1], [2, 2], [3]):
        assert sum(tree.probability(ctx, x) for x in range(4)) == pytest.approx(1.0), ctx


def test_held_out_probability_is_that_of_a_tree_fitted_without_the_event() -> None:
    """The last event of a sequence (a 2 after 0, 1) counted in no context but its own path."""
    without = ContextTree.fit([SEQS[0][:-1], SEQS[1]], 2, 4, 1, 0.5, 1.0)
    for ctx in ([0, 1], [1], []):
        assert _tree().probability(ctx, 2, held_out=True) == pytest.approx(without.probability(ctx, 2)), ctx


def test_tree_probability_is_the_pitman_yor_interpolation_by_hand() -> None:
    tree = _tree()
    # root: counts 0:5, 1:5, 2:1 (11 values, 3 distinct); uniform over 4 codes below it
    root = {x: max(n - 0.5, 0) / 12 + (1 + 0.5 * 3) / 12 * 0.25 for x, n in ((0, 5), (1, 5), (2, 1), (3, 0))}
    assert tree.probability([], 1) == pytest.approx(root[1])
    # after [0]: followed by 1 four times (0->1 in both sequences) and by nothing else
    after0 = (4 - 0.5) / 5 + (1 + 0.5) / 5 * root[1]
    assert tree.probability([0], 1) == pytest.approx(after0)
    # context [1, 0] (seen twice, both times followed by 1) interpolates with [0]
    ctx10 = (2 - 0.5) / 3 + (1 + 0.5) / 3 * after0
    assert tree.probability([1, 0], 1) == pytest.approx(ctx10)
    # an unseen code only gets the smoothed share; an order never seen is more surprising than a common one
    assert tree.probability([0], 3) < tree.probability([0], 0) < tree.probability([0], 1)


def test_tree_round_trips_through_its_rows_and_rejects_bad_rows() -> None:
    tree = _tree(min_count=2)
    back = ContextTree.from_rows(tree.rows(), 2, 4, 0.5, 1.0, "t")
    for ctx in ([], [0], [0, 1], [2]):
        assert back.probability(ctx, 1) == pytest.approx(tree.probability(ctx, 1))
    bad = tree.rows().copy()
    bad[0, -2] = 9  # a value outside the vocabulary
    with pytest.raises(DataError, match="bad row"):
        ContextTree.from_rows(bad, 2, 4, 0.5, 1.0, "t")


# -- tails and time --------------------------------------------------------------------------------
def test_tail_surprise_is_the_empirical_tail_then_exponential() -> None:
    train = np.arange(1.0, 21.0)  # 1..20
    tail = Tail.fit(train)
    # P(X >= 15) with add-one: (1 + 6) / 21
    assert tail.surprise(np.array([15.0]))[0] == pytest.approx(-math.log(7 / 21))
    assert tail.surprise(np.array([0.0]))[0] == pytest.approx(0.0)
    above = tail.surprise(np.array([20.0, 21.0, 30.0]))
    assert above[0] == pytest.approx(-math.log(2 / 21))
    # beyond the maximum: log(21) + excess / mean excess of the top 5 % (19, 20 -> mean excess 0.5)
    assert above[2] == pytest.approx(math.log(21) + 10 / 0.5)
    assert np.all(np.diff(tail.surprise(np.linspace(-5, 40, 50))) >= 0)


def test_sequences_are_ordered_by_time_and_bursts_counted() -> None:
    keys = ["a", "b", "a", "a", "b", None]
    times = np.array([10.0, 0.0, 5.0, np.nan, 100.0, 3.0])
    counts = SequenceCounts()
    seqs = sequence_order(keys, times, counts)
    # the missing time takes that of the event before it in the file (in its sequence): 5 s, after event 2
    assert [s.tolist() for s in seqs] == [[2, 3, 0], [1, 4], [5]]
    assert counts.missing_keys == 1 and counts.missing_times == 1
    assert neighbours(seqs, times, 5.0).tolist() == [2, 0, 2, 2, 0, 0]
    near = closeness(seqs, times, 10.0)
    assert near[2] == pytest.approx(0.0) and near[0] == pytest.approx(-math.log1p(0.5))
    assert near[5] < near[1] < near[0]  # alone in its sequence < 100 s away < 5 s away


# -- the detector on the synthetic events ----------------------------------------------------------
def _kinds(scores: np.ndarray, cats: np.ndarray) -> dict[str, float]:
    normal = scores[cats == "normal"]
    return {
        k: roc_auc(
            np.r_[np.zeros(len(normal)), np.ones(int((cats == k).sum()))], np.r_[normal, scores[cats == k]]
        )
        for k in sorted(set(cats) - {"normal"})
    }


@pytest.fixture(scope="module")
def synthetic() -> Any:
    return next(iter(get_registry().get("dataset", "events.synthetic").create({}).subsets()))


@pytest.fixture(scope="module")
def fitted(synthetic: Any) -> Any:
    return (
        get_registry()
        .get("detector", "events.car")
        .create({"sequence_fields": ["service"]}, device="cpu", seed=0)
        .fit(synthetic.train.samples)
    )


def test_car_catches_every_kind_and_bursts_only_through_time(synthetic: Any, fitted: Any) -> None:
    """Measured (seed 0): CAR 0.99 / 1.00 / 0.99 / 0.97 (rare, unseen, wrong context, burst); APE 0.48 and
    AVF 0.66 on bursts, whose fields are those of normal events."""
    cats = np.array(synthetic.test.meta["categories"])
    s = fitted.score(synthetic.test.samples)
    per = _kinds(s.sample, cats)
    assert min(per.values()) > 0.88, per
    assert _kinds(np.concatenate(s.extras["rhythm"]), cats)["burst"] > 0.9
    ape = (
        get_registry()
        .get("detector", "events.ape")
        .create({}, device="cpu", seed=0)
        .fit(synthetic.train.samples)
    )
    assert _kinds(ape.score(synthetic.test.samples).sample, cats)["burst"] < 0.75
    # the same events without their times: the rhythm component is off and says why
    t = synthetic.train.samples
    untimed = EventTable(
        EventSchema(t.schema.entities, t.schema.numeric, None, "session"), t.entities, t.numeric, None, t.keys
    )
    det = _car(sequence_fields=["service"]).fit(untimed)
    assert det.off_ == {"rhythm": "the events carry no time"}
    det.score(untimed)
    assert det.provenance()["car"]["components"] == ["order", "content"]
    assert det.provenance()["fit_sequences"]["no_time"] is True


def test_sequence_scores_are_the_best_event_of_each_sequence(synthetic: Any, fitted: Any) -> None:
    table = synthetic.test.samples
    s = fitted.score(table)
    seq = np.concatenate(s.extras["sequence_score"])
    keys = np.array(table.keys)
    for k in set(table.keys):
        assert np.allclose(seq[keys == k], s.sample[keys == k].max())
    ranked = fitted.provenance()["car"]["sequences"]
    assert ranked[0]["score"] == pytest.approx(s.sample.max(), abs=1e-3)
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)


def _timeline(n_seq: int, burst_in: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """Sequences cycling login -> read -> logout a minute apart; in ``burst_in``, a burst of 5 'delete's."""
    rng = np.random.default_rng(1)
    rows = []
    for s in range(n_seq):
        t = float(rng.uniform(0, 60))
        for i in range(30):
            t += 60 * float(np.exp(0.3 * rng.standard_normal()))
            rows.append({"host": f"h{s}", "at": t, "action": ("login", "read", "logout")[i % 3], "site": "x"})
            if s in burst_in and i == 10:
                rows += [
                    {"host": f"h{s}", "at": t + 0.5 * (j + 1), "action": "delete", "site": "x"}
                    for j in range(5)
                ]
    return rows


def test_patterns_reconstruct_a_repeated_burst_across_sequences() -> None:
    det = _car(key="host", time="at", sequence_fields=["action"]).fit(_timeline(6))
    assert det.encoder_.schema.entities == ("action", "site")  # key and time are not features
    scored = _timeline(6, burst_in=(1, 4))
    s = det.score(scored)
    top = det.provenance()["car"]["patterns"][0]
    # the burst and the events around it (their windows hold the burst too): one scenario per sequence
    assert top["repeats"][top["template"].index("action=delete")] == 5, top
    assert top["occurrences"] == 2 and sorted(top["sequences"]) == ["h1", "h4"] and top["span_s"] >= 2.0
    assert top["driver"] == "rhythm"
    deletes = np.array([r["action"] == "delete" for r in scored])
    quiet = np.array([r["host"] not in ("h1", "h4") for r in scored])
    assert s.sample[deletes].min() > s.sample[quiet].max()


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input_is_counted_or_fails_in_one_line() -> None:
    train = [
        {"user": "u1", "svc": "http", "bytes": 10.0, "site": "A", "t": float(i) * 60} for i in range(20)
    ] + [{"user": "u2", "svc": "dns", "bytes": 20.0, "site": "A", "t": float(i) * 60} for i in range(20)]
    det = _car(key="user", time="t").fit(train)
    scored = [
        {"user": "u1", "svc": "sctp", "bytes": 10.0, "site": "A", "t": 0.0},  # unseen value
        {"user": None, "svc": None, "bytes": None, "site": "A", "t": None},  # missing everything
        {
            "user": "u2",
            "svc": "dns",
            "bytes": "lots",
            "site": "A",
            "t": "2026-01-01T00:00:00",
        },  # text in numbers
    ]
    s = det.score(scored)
    assert np.all(np.isfinite(s.sample)) and det.score_counts_["unseen_entities"] >= 1
    seq = det.provenance()["car"]["sequence_counts"]
    assert seq["missing_keys"] == 1 and seq["missing_times"] == 1
    assert s.sample[0] > det.score([train[0]]).sample[0]
    with pytest.raises(DataError, match="key='host' but the events have no field 'host'"):
        _car(key="host").fit(train)
    with pytest.raises(DataError, match=r"sequence_fields \['nope'\] are not entity fields"):
        _car(key="user", sequence_fields=["nope"]).fit(train)


def test_one_row_and_no_key_fit_and_score() -> None:
    with pytest.warns(UserWarning, match="no sequence key"):
        det = _car().fit([{"proto": "tcp", "bytes": 5.0}])
    assert det.score([{"proto": "tcp", "bytes": 5.0}]).sample.shape == (1,)
    assert det.off_["rhythm"] == "the events carry no time"


def test_a_csv_with_key_and_time_columns_reaches_car(tmp_path: Any) -> None:
    """events.table keeps the key and ISO time columns out of the fields; CAR orders and times by them."""
    rows = ["host,when,action"]
    for s in range(3):
        for i in range(20):
            rows.append(f"h{s},2026-01-01T{i // 6:02d}:{(i % 6) * 10:02d}:{s:02d},{('login', 'read')[i % 2]}")
    rows.append("h0,2026-01-01T03:30:00,read")  # a burst: four reads within 3 s
    rows += [f"h0,2026-01-01T03:30:0{j},read" for j in (1, 2, 3)]
    path = tmp_path / "alerts.csv"
    path.write_text("\n".join(rows) + "\n")
    (subset,) = (
        get_registry()
        .get("dataset", "events.table")
        .create({"path": str(path), "split": "all", "key_column": "host", "time_column": "when"})
        .subsets()
    )
    det = _car().fit(subset.train.samples)
    assert det.encoder_.schema.entities == ("action",)
    s = det.score(subset.test.samples)
    assert det.provenance()["car"]["sequence_counts"]["missing_times"] == 0
    assert set(np.argsort(-s.sample)[:4].tolist()) == {60, 61, 62, 63}  # the burst ranks first


def test_text_clocks_other_than_iso_are_read_with_one_format_per_column() -> None:
    """CIC-IDS2017 writes ``3/7/2017 8:55`` (day first). Read cell by cell, ``3/7`` would be March and ``13/7``
    July; one format for the column reads both as July, 60 s apart where the clock says a minute."""
    t = seconds(["3/7/2017 8:55", "3/7/2017 8:56", "13/7/2017 9:00", "2017-07-03T08:55:00Z", "garbage", None], 6)
    assert t[1] - t[0] == 60.0 and t[0] == t[3]  # the ISO cell is 3 July 08:55 too
    assert t[2] - t[0] == 10 * 86400 + 5 * 60
    assert np.isnan(t[4]) and np.isnan(t[5])
    am = seconds(["7/7/2017 9:00:01 AM", "7/7/2017 9:00:03 AM"], 2)
    assert am[1] - am[0] == 2.0
