"""Seeded heterogeneous events with co-occurrence structure (``events.synthetic``): no files.

Users belong to departments; each department has its own hosts and services, and a service
fixes its port and protocol, so the entities of a normal event agree with each other. Numbers:
bytes (log-normal per service), duration, and rate (events of this session in the last
minute). Anomalies, in equal shares, of four kinds named in the test ids and in
``Split.meta["categories"]``:

- ``rare_combination``: a user on a host of another department (both seen in training);
- ``unseen_entity``: a host never seen in training;
- ``wrong_context``: a service on another service's port and protocol;
- ``burst``: a session firing far more events per minute than any in training, with big transfers.

AVF catches unseen entities and bursts; only a model of co-occurrence (APE, CLAN, one-hot kNN)
catches the first and third kinds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Split, Subset
from omniad_events.datasets.base import EventDataset
from omniad_events.datasets.params import SyntheticParams
from omniad_events.events import EventSchema, EventTable

SERVICES = {
    "http": ("80", "tcp", 8.0),
    "ssh": ("22", "tcp", 6.0),
    "dns": ("53", "udp", 4.5),
    "smtp": ("25", "tcp", 7.0),
    "ftp": ("21", "tcp", 9.0),
    "ntp": ("123", "udp", 4.0),
    "ldap": ("389", "tcp", 6.5),
    "sql": ("1433", "tcp", 8.5),
}
KINDS = ("rare_combination", "unseen_entity", "wrong_context", "burst")
SCHEMA = EventSchema(
    ("user", "host", "service", "port", "protocol"), ("bytes", "duration", "rate"), "time", "session"
)


class Synthetic(EventDataset):
    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        rng = np.random.default_rng(p.seed)
        names = list(SERVICES)
        groups = [
            {
                "users": [f"user-{g}-{u}" for u in range(max(1, p.n_users // p.n_groups))],
                "hosts": [f"host-{g}-{h}" for h in range(4)],
                "services": [names[(2 * g + s) % len(names)] for s in range(2)],
            }
            for g in range(p.n_groups)
        ]

        def normal() -> list[object]:
            g = groups[int(rng.integers(len(groups)))]
            service = str(rng.choice(g["services"]))
            port, proto, mu = SERVICES[service]
            return [
                str(rng.choice(g["users"])),
                str(rng.choice(g["hosts"])),
                service,
                port,
                proto,
                float(np.round(rng.lognormal(mu, 0.5))),
                float(np.round(rng.exponential(2.0), 3)),
                float(rng.poisson(3)),
            ]

        def anomaly(kind: str, i: int) -> list[object]:
            row = normal()
            g = next(k for k, grp in enumerate(groups) if row[0] in grp["users"])
            if kind == "rare_combination":
                row[1] = str(rng.choice(groups[(g + 1) % len(groups)]["hosts"]))
            elif kind == "unseen_entity":
                row[1] = f"host-new-{i}"
            elif kind == "wrong_context":
                other = next(s for s in names[::-1] if SERVICES[s][0] != row[3])
                row[3], row[4] = SERVICES[other][0], SERVICES[other][1]
            else:
                row[5], row[7] = float(row[5]) * 50, float(rng.integers(60, 120))
            return row

        train = [normal() for _ in range(p.n_train)]
        kinds = [KINDS[i % len(KINDS)] for i in range(p.n_test_anomalous)]
        rows = [("normal", normal()) for _ in range(p.n_test_normal)] + [
            (k, anomaly(k, i)) for i, k in enumerate(kinds)
        ]
        rows = [rows[i] for i in rng.permutation(len(rows))]
        test = [r for _, r in rows]
        cats = [k for k, _ in rows]
        return_subset = Subset(
            name="synthetic",
            train=Split(
                samples=_table(train),
                labels=np.zeros(len(train), np.int8),
                ids=[f"train-{i}" for i in range(len(train))],
            ),
            test=Split(
                samples=_table(test),
                labels=np.array([k != "normal" for k in cats], np.int8),
                ids=[f"test-{i}-{k}" for i, k in enumerate(cats)],
                meta={"categories": cats},
            ),
            meta={"anomaly_kinds": {k: kinds.count(k) for k in KINDS}, "seed": p.seed},
        )
        yield return_subset


def _table(rows: list[list[object]]) -> EventTable:
    ents = np.array([r[:5] for r in rows], dtype=object)
    nums = np.array([r[5:] for r in rows], dtype=np.float64)
    return EventTable(
        SCHEMA, ents, nums, times=[float(i) for i in range(len(rows))], keys=[str(r[0]) for r in rows]
    )
