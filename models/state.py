"""Bounded per-account streaming state, kept as columns of fixed-size numbers.

The online scorer folds every closed window into one row per account: running
counts (requests, reasoning-elicitation requests of each kind, logit-bias
probes, hosting traffic), the content counts again with a half-life of
:data:`RECENT_HALF_LIFE_HOURS` (what the account does lately, beside what it did
all along), first and last event time, account creation time,
the hours of the day the account was ever active (a 24-bit mask), a 256-bit
sketch of the head templates of its reasoning-elicitation requests (for template
reuse, see :func:`models.scoring.account_rates`), the latest
model scores, and whether and when the account was flagged. Nothing grows with
the number of events: an account costs the same after ten requests as after
ten million (:data:`BYTES_PER_ACCOUNT` in the columns, plus its id in the
index), and :meth:`AccountState.evict` drops accounts idle for longer than the
retention period unless they were flagged.

Columns are numpy arrays indexed by row; rows are assigned in order of first
appearance, which is deterministic for a given event order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from models.signals import TEMPLATE_SKETCH_COLUMNS

#: Sentinel of an unknown time (microseconds since the epoch).
NO_TIME = np.iinfo(np.int64).min

#: Running counts, added up window by window (int64).
COUNTS: dict[str, str] = {
    "n_requests": "vol_requests",
    "n_content": "det_content_known",
    "n_cot": "det_cot",
    "n_rubric": "det_rubric",
    "n_reconstruct": "det_reconstruct",
    "n_extraction": "det_extraction",
    "n_extraction_long": "det_extraction_long",
    "n_harvest": "det_harvest",
    "n_hosting": "det_hosting",
    "n_extraction_tmpl": "det_extraction_tmpl",
}

#: Content counts again, decayed with a half-life of :data:`RECENT_HALF_LIFE_HOURS` of
#: event time (recent column → running count it follows), float32.
RECENT: dict[str, str] = {
    "recent_content": "n_content",
    "recent_cot": "n_cot",
    "recent_rubric": "n_rubric",
    "recent_reconstruct": "n_reconstruct",
    "recent_extraction": "n_extraction",
    "recent_extraction_long": "n_extraction_long",
}

#: Half-life, in hours of event time, of the recent content counts. An
#: established account that turns to extraction (a reseller who starts relaying
#: a campaign's traffic) keeps its lifetime shares diluted by its clean past for
#: days; its recent shares show the change within hours.
RECENT_HALF_LIFE_HOURS = 6.0

#: Template-sketch words (state column → window column), OR-ed across windows (uint64).
SKETCH: dict[str, str] = {
    f"tmpl_bits_{w}": column for w, column in enumerate(TEMPLATE_SKETCH_COLUMNS)
}

#: Every column: dtype and the value of a new row.
COLUMNS: dict[str, tuple[type, float | int]] = {
    **{name: (np.int64, 0) for name in COUNTS},
    **{name: (np.float32, 0.0) for name in RECENT},
    "first_us": (np.int64, NO_TIME),
    "last_us": (np.int64, NO_TIME),
    "created_us": (np.int64, NO_TIME),
    "hour_mask": (np.int64, 0),
    **{name: (np.uint64, 0) for name in SKETCH},
    "adoption_h": (np.float32, np.nan),
    "anomaly": (np.float32, 0.0),
    "verdict_p": (np.float32, np.nan),
    "own": (np.float32, 0.0),
    "score": (np.float32, 0.0),
    "flagged_us": (np.int64, NO_TIME),
    "campaign": (np.int32, -1),
    "membership": (np.float32, 0.0),
}

#: Bytes of column data per account row.
BYTES_PER_ACCOUNT = sum(np.dtype(dtype).itemsize for dtype, _ in COLUMNS.values())

#: Weight of the newest window in the smoothed anomaly score, for a window of many requests.
ANOMALY_SMOOTHING = 0.3
#: Requests in a window at which it moves the smoothed anomaly score half as far as
#: :data:`ANOMALY_SMOOTHING`: a window of one or two requests says little about how
#: unusual an account is, one of a hundred says a lot. With every window at full
#: weight and new accounts starting at 0, a whale sending a hundred requests per
#: window earned its anomaly points only after 2 to 4 hours. Starting new accounts
#: at the running mean instead, without this weight, let the anomaly term tip
#: customers with a handful of step-by-step questions over the flag threshold: up
#: to 12 of one seed's 9,000 individuals, 10 with a half weight at 5 requests, and
#: at 10 requests 3 to 7 a seed, as before (`small` preset, seeds 1 to 8).
ANOMALY_HALF_WEIGHT_REQUESTS = 10.0


def _epoch_us(name: str) -> pl.Expr:
    """Datetime column as int64 microseconds, :data:`NO_TIME` where null."""
    return pl.col(name).dt.epoch("us").fill_null(NO_TIME)


def _fold_inputs() -> list[pl.Expr]:
    """The window columns :meth:`AccountState.fold` adds, as the numbers it adds them as.

    Taken in one pass: a polars call per column costs more than the column.
    """
    return [
        *(
            pl.col(source).fill_null(0).cast(pl.Int64).alias(name)
            for name, source in COUNTS.items()
        ),
        *(
            pl.col(source).fill_null(0).cast(pl.UInt64).alias(name)
            for name, source in SKETCH.items()
        ),
        _epoch_us("time_first").alias("first_us"),
        _epoch_us("time_last").alias("last_us"),
        (pl.col("acct_age_days").cast(pl.Float64) * 86_400e6).alias("age_us"),
        pl.col("det_hour_mask").fill_null(0).cast(pl.Int64).alias("hour_mask"),
        pl.col("model_adoption_hours").cast(pl.Float32).alias("adoption_h"),
    ]


class AccountState:
    """Columns of per-account state, one row per account seen and not evicted.

    Parameters
    ----------
    capacity
        Rows allocated up front; the columns double when full.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._cols: dict[str, np.ndarray] = {
            name: np.full(capacity, fill, dtype) for name, (dtype, fill) in COLUMNS.items()
        }

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, name: str) -> np.ndarray:
        """The live rows of column ``name`` (a view: writes go to the state)."""
        return self._cols[name][: len(self._ids)]

    @property
    def ids(self) -> list[str]:
        """Account id of each row."""
        return self._ids

    def rows(self, account_ids: Iterable[str]) -> np.ndarray:
        """Row of each account, adding a fresh row for accounts not seen before."""
        out = []
        for account_id in account_ids:
            row = self._index.get(account_id)
            if row is None:
                row = len(self._ids)
                self._index[account_id] = row
                self._ids.append(account_id)
            out.append(row)
        if len(self._ids) > len(self._cols["n_requests"]):
            self._grow(len(self._ids))
        return np.asarray(out, dtype=np.int64)

    def find(self, account_ids: Iterable[str]) -> np.ndarray:
        """Row of each account, -1 for accounts not in the state."""
        return np.asarray([self._index.get(a, -1) for a in account_ids], dtype=np.int64)

    def _grow(self, needed: int) -> None:
        size = len(self._cols["n_requests"])
        while size < needed:
            size *= 2
        for name, (dtype, fill) in COLUMNS.items():
            column: np.ndarray = np.full(size, fill, dtype)
            column[: len(self._cols[name])] = self._cols[name]
            self._cols[name] = column

    def fold(
        self, windows: pl.DataFrame, anomaly: np.ndarray | None = None, prior: float = 0.0
    ) -> np.ndarray:
        """Add one window's per-account rows (see :func:`models.signals.account_windows`).

        Returns the state row of each window row. The recent counts decay over the
        event time from the account's last event to the window's last, then add
        the window's counts. ``anomaly`` is the window's
        anomaly score per row, smoothed into the ``anomaly`` column: an account
        new to the state starts from ``prior`` (the scorer passes the running
        mean score, so that a new account is neither unusual nor usual before
        its windows say so), and a window moves it by :data:`ANOMALY_SMOOTHING`
        times ``n / (n + ANOMALY_HALF_WEIGHT_REQUESTS)`` for its ``n`` requests.
        """
        rows = self.rows(windows["account_id"].to_list())
        columns = {
            name: column.to_numpy()
            for name, column in windows.select(_fold_inputs()).to_dict().items()
        }
        for name in COUNTS:
            self[name][rows] += columns[name]
        for name in (*SKETCH, "hour_mask"):
            self[name][rows] |= columns[name]
        first, last, age_us = columns["first_us"], columns["last_us"], columns["age_us"]
        known = self["first_us"][rows] != NO_TIME
        previous_last = np.where(known, self["last_us"][rows], last)
        elapsed_h = np.maximum(last - previous_last, 0) / 3_600e6
        decay = np.exp2(-elapsed_h / RECENT_HALF_LIFE_HOURS)
        for name, count in RECENT.items():
            self[name][rows] = self[name][rows] * decay + columns[count]
        self["first_us"][rows] = np.where(known, np.minimum(self["first_us"][rows], first), first)
        self["last_us"][rows] = np.maximum(self["last_us"][rows], last)
        created = np.where(np.isnan(age_us), NO_TIME, last - np.nan_to_num(age_us).astype(np.int64))
        self["created_us"][rows] = np.where(
            self["created_us"][rows] == NO_TIME, created, self["created_us"][rows]
        )
        self["adoption_h"][rows] = np.fmin(self["adoption_h"][rows], columns["adoption_h"])
        if anomaly is not None:
            previous = np.where(known, self["anomaly"][rows], prior)
            n = columns["n_requests"].astype(np.float64)
            weight = ANOMALY_SMOOTHING * n / (n + ANOMALY_HALF_WEIGHT_REQUESTS)
            self["anomaly"][rows] = previous + weight * (anomaly - previous)
        return rows

    def evict(self, idle_before_us: int) -> np.ndarray | None:
        """Drop unflagged accounts whose last event is older than ``idle_before_us``.

        Returns None when nothing was dropped, else the new row of every old
        row (-1 for dropped ones): the remaining rows keep their relative order.
        """
        keep = (self["last_us"] >= idle_before_us) | (self["flagged_us"] != NO_TIME)
        if keep.all():
            return None
        kept = np.flatnonzero(keep)
        new_row = np.full(len(keep), -1, dtype=np.int64)
        new_row[kept] = np.arange(len(kept))
        self._ids = [self._ids[i] for i in kept]
        self._index = {account_id: row for row, account_id in enumerate(self._ids)}
        for name, (dtype, fill) in COLUMNS.items():
            kept_column: np.ndarray = np.full(max(self.capacity, len(kept)), fill, dtype)
            kept_column[: len(kept)] = self._cols[name][kept]
            self._cols[name] = kept_column
        return new_row

    def frame(self) -> pl.DataFrame:
        """Every live row as a DataFrame (``account_id`` and every column)."""
        return pl.DataFrame({"account_id": self._ids, **{name: self[name] for name in COLUMNS}})
