"""The encoders against scikit-learn, and the event forms detectors accept."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from omniad.errors import DataError
from omniad_events.encoding import Encoder
from omniad_events.events import EventTable, as_table

TRAIN = [
    {"proto": "tcp", "service": "http", "bytes": 100.0},
    {"proto": "udp", "service": "dns", "bytes": 10.0},
    {"proto": "tcp", "service": "ssh", "bytes": 55.0},
    {"proto": "tcp", "service": "http", "bytes": 70.0},
]
TEST = [
    {"proto": "icmp", "service": "http", "bytes": 200.0},
    {"proto": "tcp", "service": "dns", "bytes": 0.0},
]


def test_onehot_matches_sklearn_onehot_ignore_and_minmax() -> None:
    train, test = as_table(TRAIN, "t"), as_table(TEST, "t")
    enc = Encoder.fit(train)
    ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train.entities.astype(str))
    mm = MinMaxScaler().fit(train.numeric)
    want = np.c_[ohe.transform(test.entities.astype(str)), mm.transform(test.numeric)]
    got = enc.onehot(test)
    # same columns up to order: compare per entity field as sets of (value -> column)
    assert got.shape == want.shape
    for j, t in enumerate(enc.schema.entities):
        cats = list(ohe.categories_[j])
        for value in cats:
            mine = got[:, enc.field_blocks("onehot")[j][enc.vocab[t].index(value)]]
            theirs = want[:, sum(len(c) for c in ohe.categories_[:j]) + cats.index(value)]
            np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_allclose(got[:, -1], want[:, -1])


def test_unseen_values_are_counted_and_all_zero() -> None:
    enc = Encoder.fit(as_table(TRAIN, "t"))
    from omniad_events.encoding import EncodedCounts

    counts = EncodedCounts()
    x = enc.onehot(as_table(TEST, "t"), counts)
    assert counts.unseen_entities == 1 and counts.per_event_unseen.tolist() == [1, 0]
    assert x[0, enc.field_blocks("onehot")[0]].sum() == 0
    assert counts.out_of_range_numbers == 2  # 200 above, 0 below the training range


def test_frequency_encoding_is_the_training_share() -> None:
    enc = Encoder.fit(as_table(TRAIN, "t"))
    x = enc.frequency(as_table(TEST, "t"))
    assert x[0, 0] == 0.0 and x[1, 0] == 0.75  # icmp unseen; tcp in 3 of 4
    assert x[0, 1] == 0.5 and x[1, 1] == 0.25  # http 2 of 4, dns 1 of 4


def test_events_round_trip_through_single_events() -> None:
    table = as_table(TRAIN, "t")
    again = as_table([table[i] for i in range(len(table))], "t")
    assert isinstance(again, EventTable) and again.schema == table.schema
    np.testing.assert_array_equal(again.numeric, table.numeric)
    assert table[0].as_dict() == {"proto": "tcp", "service": "http", "bytes": 100.0}


@pytest.mark.parametrize("bad", [42, "text", [1, 2], [[0.1, 0.2]], [{"a": 1}, 5]])
def test_other_inputs_fail_with_one_line(bad: object) -> None:
    with pytest.raises(DataError, match="pass events"):
        as_table(bad, "here")
