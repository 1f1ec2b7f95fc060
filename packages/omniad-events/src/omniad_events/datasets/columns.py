"""Which columns of a bare table are not event features, though their cells would type as such.

Intrusion exports carry more than the events: a row number (``id``), a clock (``stime`` as
numbers, ``Timestamp`` as text), a flow identifier, the attack's name beside the 0/1 label (UNSW-NB15's
``attack_cat``). Typed by their cells they would become features, and each breaks a one-class
model in its own way: a counter or a clock puts every new file beyond the training range (all
of it anomalous), an identifier gives every row an unseen value, an attack name hands the
answer to the detector. ``events.table`` leaves such columns out when it types columns itself,
warns naming each with the reason and the parameter that keeps it, and counts them
(``left_out_columns``); a column the user names is always used as named.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: column names (case-insensitive) that annotate the label rather than describe the event
ANNOTATION_NAMES = frozenset({
    "label", "labels", "attack", "attacks", "attack_cat", "attack_category", "attack_type", "attack_name",
    "is_attack", "anomaly", "is_anomaly",
})
#: fewer rows than this and a column cannot be told from a feature by its order or distinctness
MIN_ROWS = 20
#: cells read to tell a column of dates and times (a clock written as text) from other text
MAX_DATE_PROBE = 200
#: what a date or a time of day looks like: a four-digit year beside a day and month, or hh:mm (so a
#: version "1.2.3", an address "10.0.0.1" or a month name, which pandas would also read as dates, is none)
DATE_SHAPE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,2}:\d{2}"


def left_out_reason(name: str, values: Any, is_number: bool) -> str | None:
    """Why the auto-typed column ``name`` is no feature, or None when it is one."""
    if name.strip().lower() in ANNOTATION_NAMES:
        return ("its name says it annotates the label (an attack name or class): the detector would be "
                "given the answer; name it as label_column, or in entity_columns to use it anyway")
    if len(values) < MIN_ROWS:
        return None
    import pandas as pd

    if is_number:
        x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        if len(x) >= MIN_ROWS and np.unique(x).size >= len(x) // 2:
            step = np.diff(x)
            if (step >= 0).all() or (step <= 0).all():
                return ("it rises (or falls) row by row like a row number or a clock: new events would lie "
                        "beyond the training range and all look anomalous; name it as time_column or "
                        "id_column, or in numeric_columns to use it anyway")
        return None
    text = pd.Series(values).astype(str).str.strip()  # vectorised: intrusion exports run to millions of rows
    distinct = text.nunique()
    if distinct == len(text):
        return ("every row has its own value (an identifier), so no event shares it with the training "
                "events; name it as id_column, or in entity_columns to use it anyway")
    if _dates(text.iloc[:MAX_DATE_PROBE]):  # however few: a clock by the minute, or one day's date
        return ("its cells are dates and times (a clock): new events would all hold unseen values; name it "
                "as time_column, or in entity_columns to use it anyway")
    return None


def _dates(cells: Any) -> bool:
    """Nearly every cell (a pandas Series of text) looks like and reads as a date and time
    (``2017-07-03 08:55:58``, ``03/07/2017 8:55``, ``7/7/2017 9:00`` as CIC-IDS2017 writes them)."""
    import warnings

    import pandas as pd

    if not cells.str.contains(DATE_SHAPE).mean() >= 0.95:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it infers the format cell by cell
        try:  # utc: cells with different offsets would otherwise fail as "mixed timezones"
            parsed = pd.to_datetime(cells, errors="coerce", format="mixed", utc=True)
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().mean() >= 0.95)
