"""Seeded heterogeneous events with co-occurrence and time structure (``events.synthetic``): no files.

Users belong to departments; each department has its own hosts and two services, and a service
fixes its port and protocol, so the entities of a normal event agree with each other. Every
user is a session (the sequence key) with its own timeline: events about a minute apart
(log-normal gaps, median 60 s), mostly alternating between the department's two services.
Numbers: bytes (log-normal per service) and duration. Anomalies, in equal shares, of four kinds
named in the test ids and in ``Split.meta["categories"]``:

- ``rare_combination``: a user on a host of another department (both seen in training);
- ``unseen_entity``: a host never seen in training;
- ``wrong_context``: a service on another service's port and protocol;
- ``burst``: ``burst_size`` events of one session within a few seconds (0.2-2 s apart). Their
  fields and numbers are those of normal events of that user: only the time and the sequence
  key show them, so a detector that sees each event alone cannot find them (``events.car``
  does).

AVF catches unseen entities; only a model of co-occurrence (APE, CLAN, one-hot kNN) catches the
first and third kinds. The test events come after the training ones on each user's timeline and
are sorted by time, as a log would be.
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
    ("user", "host", "service", "port", "protocol"), ("bytes", "duration"), "time", "session"
)
#: normal gaps within a session: log-normal, median 60 s
GAP_MEDIAN, GAP_SIGMA = 60.0, 0.5


class Synthetic(EventDataset):
    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        rng = np.random.default_rng(p.seed)
        names = list(SERVICES)
        per_group = max(1, p.n_users // p.n_groups)
        groups = [
            {
                "users": [f"user-{g}-{u}" for u in range(per_group)],
                "hosts": [f"host-{g}-{h}" for h in range(4)],
                "services": [names[(2 * g + s) % len(names)] for s in range(2)],
            }
            for g in range(p.n_groups)
        ]
        users = [(u, g) for g, grp in enumerate(groups) for u in grp["users"]]
        last_service: dict[str, str] = {}

        def normal(user: str, g: int) -> list[object]:
            grp = groups[g]
            prev = last_service.get(user)
            # a session mostly alternates between its department's two services: an order to learn
            if prev is None or rng.random() < 0.2:
                service = str(rng.choice(grp["services"]))
            else:
                service = next((s for s in grp["services"] if s != prev), prev)
            last_service[user] = service
            port, proto, mu = SERVICES[service]
            return [
                user,
                str(rng.choice(grp["hosts"])),
                service,
                port,
                proto,
                float(np.round(rng.lognormal(mu, 0.5))),
                float(np.round(rng.exponential(2.0), 3)),
            ]

        def timeline(start: np.ndarray, counts: np.ndarray) -> list[list[float]]:
            gaps = [GAP_MEDIAN * np.exp(GAP_SIGMA * rng.standard_normal(int(c))) for c in counts]
            return [list(s + np.cumsum(gap)) for s, gap in zip(start, gaps, strict=True)]

        def events(counts: np.ndarray, times: list[list[float]]) -> list[tuple[float, str, list[object]]]:
            out = []
            for (user, g), ts in zip(users, times, strict=True):
                out += [(t, "normal", normal(user, g)) for t in ts]
            return out

        kinds = [KINDS[i % len(KINDS)] for i in range(p.n_test_anomalous)]
        content = [k for k in kinds if k != "burst"]
        n_u = len(users)
        train_counts = np.bincount(rng.integers(0, n_u, p.n_train), minlength=n_u)
        train_times = timeline(rng.uniform(0, 600, n_u), train_counts)
        train = sorted(events(train_counts, train_times), key=lambda r: r[0])
        ends = np.array([ts[-1] if ts else 600.0 for ts in train_times])
        # content anomalies replace the fields of normal test events, so their times stay those of normal events
        test_counts = np.bincount(rng.integers(0, n_u, p.n_test_normal + len(content)), minlength=n_u)
        test_times = timeline(ends, test_counts)
        rows = events(test_counts, test_times)
        span = np.array(
            [(ts[0], ts[-1]) if ts else (e, e + 600.0) for ts, e in zip(test_times, ends, strict=True)]
        )
        n_burst = len(kinds) - len(content)
        for i, (j, kind) in enumerate(
            zip(rng.choice(len(rows), len(content), replace=False), content, strict=True)
        ):
            t, _, row = rows[j]
            g = dict(users)[str(row[0])]
            if kind == "rare_combination":
                row[1] = str(rng.choice(groups[(g + 1) % len(groups)]["hosts"]))
            elif kind == "unseen_entity":
                row[1] = f"host-new-{i}"
            else:
                other = next(s for s in names[::-1] if SERVICES[s][0] != row[3])
                row[3], row[4] = SERVICES[other][0], SERVICES[other][1]
            rows[j] = (t, kind, row)
        for size in [min(p.burst_size, n_burst - s) for s in range(0, n_burst, p.burst_size)]:
            u = int(rng.integers(n_u))
            user, g = users[u]
            t0 = float(rng.uniform(*span[u]))
            for t in t0 + np.cumsum(rng.uniform(0.2, 2.0, size)):
                rows.append((float(t), "burst", normal(user, g)))
        rows.sort(key=lambda r: r[0])
        cats = [k for _, k, _ in rows]
        yield Subset(
            name="synthetic",
            train=Split(
                samples=_table(train),
                labels=np.zeros(len(train), np.int8),
                ids=[f"train-{i}" for i in range(len(train))],
            ),
            test=Split(
                samples=_table(rows),
                labels=np.array([k != "normal" for k in cats], np.int8),
                ids=[f"test-{i}-{k}" for i, k in enumerate(cats)],
                meta={"categories": cats},
            ),
            meta={"anomaly_kinds": {k: kinds.count(k) for k in KINDS}, "seed": p.seed},
        )


def _table(rows: list[tuple[float, str, list[object]]]) -> EventTable:
    ents = np.array([r[2][:5] for r in rows], dtype=object).reshape(len(rows), 5)
    nums = np.array([r[2][5:] for r in rows], dtype=np.float64).reshape(len(rows), 2)
    return EventTable(
        SCHEMA, ents, nums, times=[round(float(r[0]), 3) for r in rows], keys=[str(r[2][0]) for r in rows]
    )
