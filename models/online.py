"""The stateful online scorer, shared by ``distillwatch detect`` and the Kafka scorer.

:class:`OnlineScorer` takes lake-schema events in (roughly) event-time order,
in batches of any size, and:

1. cuts them into event-time windows of :attr:`ScorerConfig.window` (a window
   closes once the stream's event time has passed its end by
   :attr:`ScorerConfig.lateness`; later stragglers join the next window);
2. per closed window, computes every active account's window features with the
   ``features.windows`` expressions (:func:`models.signals.account_windows`),
   scores them with the anomaly model and the verdict classifier *before*
   learning from them, feeds the anomaly scores to the drift monitor, folds the
   window into the bounded per-account state (:class:`models.state.AccountState`)
   and re-scores those accounts;
3. every :attr:`ScorerConfig.campaign_every` of event time, adds the links of
   the events since the previous step (``features.links.account_links``; the
   synchronisation links, every :attr:`ScorerConfig.sync_every`, over the
   trailing :attr:`ScorerConfig.sync_span`) to the campaign tracker,
   re-clusters (:func:`models.campaigns.find_campaigns`), re-scores the
   campaigns and every account; an account paying with a flagged campaign's
   card is tied to that card's holders as soon as its window closes;
4. flags an account the first time its final score reaches
   :data:`models.scoring.FLAG_THRESHOLD`; ``first_flagged_at`` is the event time
   at which that happened (the account's last event in the window, or the
   campaign step's time when campaign evidence tipped it).

Everything is a function of the events and their order, so the batch path and
the live path give the same flags for the same stream, and a pickled scorer
(:meth:`OnlineScorer.snapshot`) resumes exactly where it stopped.

Cost control: the river models are updated once per account window (not per
event), and at most :attr:`ScorerConfig.link_sample` events per account and
window (a deterministic sample by event id) go into the link computation, so a
batch pipeline sending 10,000 requests an hour costs the campaign search no
more than a customer sending 25 an hour.

Memory per active account: the state's columns (:data:`models.state.BYTES_PER_ACCOUNT`,
204 bytes, with its 256-bit template sketch) and its id in the index (about 150
bytes), its latest payment fingerprint / prefix / user agent (about 250 bytes) and its latest model
feature vector (for verdicts, about 1.3 KB as a list of floats), so under 2 KB; plus its
5-minute activity slots of the sync span (and of up to one :attr:`ScorerConfig.sync_every`
more: they are trimmed when synchronisation is measured) and its ties, both bounded by
the retention.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from features.links import EDGE_SCHEMA, LINK_COLUMNS, SYNC_BIN, account_links
from features.windows import network_prefix
from models import scoring
from models.anomaly import AnomalyDetector
from models.campaigns import (
    CORE_MEMBERSHIP,
    FAMILIES,
    MIN_NODE_ACTIVITY,
    TIE_VALUE_KINDS,
    CampaignTracker,
    find_campaigns,
    tied_pairs,
)
from models.classifier import VerdictClassifier
from models.drift import ScoreDrift
from models.explain import reasons
from models.signals import MODEL_FEATURES, account_windows, model_features
from models.state import NO_TIME, AccountState

#: Columns of the flagged-accounts frame (:meth:`OnlineScorer.flagged`).
FLAG_COLUMNS: tuple[str, ...] = (
    "account_id",
    "score",
    "tier",
    "campaign_id",
    "first_flagged_at",
    "reasons",
    "own_score",
    "campaign_score",
    "n_requests",
    "first_seen",
    "last_seen",
)

#: Network kinds whose addresses many unrelated customers share (carrier-grade NAT).
SHARED_ADDRESS_KINDS: tuple[str, ...] = ("mobile",)

_EXTRACTION_PARTS = (
    ("cot_elicitation", "cot"),
    ("rubric_grading", "rubric"),
    ("reasoning_reconstruction", "reconstruct"),
)
_SAMPLE_SEED = 0x5A3B1E
_US = 1_000_000


@dataclass(frozen=True)
class ScorerConfig:
    """Knobs of the online scorer (documented constants; candidates for settings).

    Attributes
    ----------
    window
        Per-account window: model updates and own-evidence re-scoring happen
        once per account per window.
    campaign_every
        Event time between two campaign steps (links, clustering, campaign scores).
    sync_span
        Trailing event time over which synchronised activity is measured:
        long, because accounts run together share a few 5-minute slots a day,
        and only many shared slots set them apart from chance.
    sync_every
        Event time between two measurements of synchronised activity.
    lateness
        How long after a window's end its events are awaited before it closes.
    link_sample
        Most events of one account per window that enter the link computation.
    retention
        Accounts and links idle for longer are forgotten (flagged accounts are kept).
    model_warmup
        Models seen in the stream's first ``model_warmup`` count as established,
        not newly released.
    seed
        Seed of the anomaly model.
    """

    window: timedelta = timedelta(minutes=30)
    campaign_every: timedelta = timedelta(minutes=30)
    sync_span: timedelta = timedelta(days=7)
    sync_every: timedelta = timedelta(hours=3)
    lateness: timedelta = timedelta(minutes=2)
    link_sample: int = 12
    retention: timedelta = timedelta(days=14)
    model_warmup: timedelta = timedelta(hours=24)
    seed: int = 7


@dataclass(frozen=True)
class Flag:
    """An account that crossed the flag threshold (the ``abuse-flags`` message)."""

    account_id: str
    score: float
    tier: str
    campaign_id: str | None
    first_flagged_at: datetime
    reasons: str

    def to_json(self) -> bytes:
        """The flag as the JSON of the ``abuse-flags`` topic (see ``models.score_consumer``)."""
        body = {
            "schema_version": 1,
            "account_id": self.account_id,
            "score": round(self.score, 4),
            "tier": self.tier,
            "campaign_id": self.campaign_id,
            "first_flagged_at": self.first_flagged_at.isoformat().replace("+00:00", "Z"),
            "reasons": self.reasons,
        }
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class _Campaigns:
    """Result of the latest campaign step, per state row and per campaign."""

    row_campaign: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    row_member: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    ids: list[str] = field(default_factory=list)
    scores: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    points: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)


def _dt(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


def _epoch_us(ts: pl.Series) -> np.ndarray:
    return ts.dt.epoch("us").to_numpy()


#: Column of :meth:`OnlineScorer._close_windows`' frames: the window that takes the event.
_WINDOW = "_window"


def _window_of(ts: np.ndarray, ends: list[int], closes_at: list[int]) -> pl.Series:
    """Index of the window that takes each event of a batch (``len(ends)``: none yet).

    Window ``k`` ends at ``ends[k]`` and closes once the batch's events up to
    ``closes_at[k]`` are in: it takes the events that are in by then and fall
    before its end, unless an earlier window took them.
    """
    arrived = np.searchsorted(closes_at, np.arange(len(ts)), side="left")
    return pl.Series(_WINDOW, np.maximum(arrived, np.searchsorted(ends, ts, side="right")))


def _by_window(frame: pl.DataFrame, count: int) -> list[pl.DataFrame]:
    """The rows of each of ``count`` windows (by the :data:`_WINDOW` column), without it."""
    parts = frame.partition_by(_WINDOW, as_dict=True, include_key=False)
    empty = frame.drop(_WINDOW).clear()
    return [parts.get((window,), empty) for window in range(count)]


@dataclass(frozen=True)
class _WindowInputs:
    """What closing one window takes from its events (see :meth:`OnlineScorer._window_inputs`).

    Attributes
    ----------
    accounts
        Its account windows (:func:`models.signals.account_windows`).
    identity
        Per account, its latest payment fingerprint, network ``prefix`` and
        user agent in the window.
    link_sample
        The events that go into the next link batch (see :meth:`OnlineScorer._event_summaries`).
    sync_bins
        The accounts' activity slots (``account_id``, ``ts`` truncated to the sync bin).
    payments
        Per account and payment fingerprint, its first use in the window (``ts``).
    """

    accounts: pl.DataFrame
    identity: pl.DataFrame
    link_sample: pl.DataFrame
    sync_bins: pl.DataFrame
    payments: pl.DataFrame


class OnlineScorer:
    """Per-account streaming state, river models and campaign tracking (see module docstring).

    Parameters
    ----------
    config
        Scorer knobs.

    Examples
    --------
    >>> scorer = OnlineScorer()
    >>> flags = scorer.process(events)  # doctest: +SKIP
    >>> flags += scorer.flush()  # doctest: +SKIP
    >>> scorer.flagged()  # doctest: +SKIP
    """

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        cfg = self.config
        self._window_us = int(cfg.window.total_seconds() * _US)
        self._step_us = int(cfg.campaign_every.total_seconds() * _US)
        self._state = AccountState()
        self._anomaly = AnomalyDetector(seed=cfg.seed)
        self._classifier = VerdictClassifier()
        self._drift = ScoreDrift()
        self._tracker = CampaignTracker()
        self._campaigns = _Campaigns()
        self._pending: list[pl.DataFrame] = []
        self._link_events: list[pl.DataFrame] = []
        self._sync_bins = pl.DataFrame(schema={"account_id": pl.String, "ts": _TS})
        self._identity: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._reused: dict[str, str] = {}
        self._last_x: dict[str, list[float]] = {}
        self._model_first_seen: dict[str, int] = {}
        self._start_us: int | None = None
        self._window_end: int | None = None
        self._next_step: int | None = None
        self._next_sync: int | None = None
        self._watermark = NO_TIME
        self._events = 0
        self._windows = 0

    # -- input -------------------------------------------------------------------------------
    def process(self, events: pl.DataFrame) -> list[Flag]:
        """Add lake-schema events in stream order; close every complete window; return new flags.

        The watermark (newest event time so far minus the lateness) advances
        event by event, and a window closes as soon as it passes the window's
        end, so the result depends on the order of the events, never on how
        they were batched.
        """
        if events.height == 0:
            return []
        self._events += events.height
        ts = _epoch_us(events["ts"])
        if self._start_us is None:
            first = int(ts[0])
            self._start_us = first - first % self._window_us
            self._window_end = self._start_us + self._window_us
            self._next_step = self._start_us + self._step_us
            self._next_sync = self._start_us + int(self.config.sync_every.total_seconds() * _US)
        lateness = int(self.config.lateness.total_seconds() * _US)
        watermark = np.maximum(np.maximum.accumulate(ts) - lateness, self._watermark)
        self._watermark = int(watermark[-1])
        assert self._window_end is not None
        # The k-th window still open (ending window_end + k * window) closes at
        # the first event whose watermark reaches its end.
        ends: list[int] = []
        closes_at: list[int] = []
        end = self._window_end
        while (at := int(np.searchsorted(watermark, end, side="left"))) < len(ts):
            ends.append(end)
            closes_at.append(at)
            end += self._window_us
        if not ends:
            self._pending.append(events)
            return []
        return self._close_windows(ends, events.with_columns(_window_of(ts, ends, closes_at)))

    def flush(self) -> list[Flag]:
        """Close every window still open and run a last campaign step (end of input)."""
        flags: list[Flag] = []
        if self._pending and self._window_end is not None:
            # every window up to the one of the latest pending event
            latest = max(int(_epoch_us(frame["ts"]).max()) for frame in self._pending)
            count = max(0, (latest - self._window_end) // self._window_us + 1) + 1
            flags += self._close_windows(
                [self._window_end + k * self._window_us for k in range(count)]
            )
        if self._window_end is not None:
            value_ties = self._value_ties(self._window_end)()
            flags += self._campaign_step(self._window_end, value_ties, final=True)
            self._next_step = self._window_end + self._step_us
        return flags

    def learn_verdict(self, account_id: str, label: bool) -> bool:
        """Teach the verdict classifier one reviewer decision; False if the account is unknown."""
        x = self._last_x.get(account_id)
        if x is None:
            return False
        self._classifier.learn_one(dict(zip(MODEL_FEATURES, x, strict=True)), label)
        return True

    # -- windows -----------------------------------------------------------------------------
    def _close_windows(self, ends: list[int], new: pl.DataFrame | None = None) -> list[Flag]:
        """Close the windows ending at ``ends``, in order; keep the other events pending.

        ``new`` holds the batch's events with the index of the window that
        takes each (:func:`_window_of`); an event pending from an earlier batch
        goes to the first of these windows it falls before the end of. Knowing
        every window's events first lets one polars pass compute what closing
        each takes from them (:meth:`_window_inputs`): per window, the fixed
        cost of each pass (some seventy aggregations for the window features
        alone) outweighed the work.
        """
        frames = [
            frame.with_columns(
                pl.Series(_WINDOW, np.searchsorted(ends, _epoch_us(frame["ts"]), side="right"))
            )
            for frame in self._pending
        ]
        if new is not None:
            frames.append(new)
        frame = pl.concat(frames, how="vertical_relaxed")
        rest = frame.filter(pl.col(_WINDOW) >= len(ends)).drop(_WINDOW)
        self._pending = [rest] if rest.height else []
        due = self._window_inputs(frame.filter(pl.col(_WINDOW) < len(ends)), len(ends))
        flags: list[Flag] = []
        with ThreadPoolExecutor(1) as pool:
            value_ties = self._start_value_ties(pool, ends, due)
            for end, inputs, ties in zip(ends, due, value_ties, strict=True):
                flags += self._close_window(end, inputs, ties)
        return flags

    def _start_value_ties(
        self, pool: ThreadPoolExecutor, ends: list[int], due: list[_WindowInputs | None]
    ) -> list[Future[pl.DataFrame] | None]:
        """Start computing the value ties of the campaign steps of these windows, in order.

        Per window, the tied pairs of its step's link batch (None: no step
        then). They are a function of the batch's events alone, so ``pool``'s
        thread computes them (polars and the native pairing kernel release
        the GIL) while this one scores the windows, all of the batch queued at
        once so that thread never waits for this one: the same result as one
        after the other, in less wall time.
        """
        assert self._next_step is not None
        next_step = self._next_step
        out: list[Future[pl.DataFrame] | None] = []
        for end, inputs in zip(ends, due, strict=True):
            if inputs is not None:
                self._link_events.append(inputs.link_sample)
            if end >= next_step:
                out.append(pool.submit(self._value_ties(end)))
                next_step = end + self._step_us
            else:
                out.append(None)
        return out

    def _window_inputs(self, due: pl.DataFrame, count: int) -> list[_WindowInputs | None]:
        """What closing each of ``count`` windows takes from its events (None: no events).

        ``due`` holds their events, with the window index of each. The model
        adoption features need when each model first appeared *as of* the
        window; one pass uses the first appearances after the last window, the
        same for every window unless an event of a later window is a model's
        earliest (a straggler), and a window for which they differ is
        computed on its own.
        """
        if due.height == 0:
            return [None] * count
        firsts = due.group_by(_WINDOW, "model").agg(pl.col("ts").min().dt.epoch("us").alias("t"))
        models: list[dict[str, int]] = [{} for _ in range(count)]
        for window, model, t in firsts.sort(_WINDOW, "model").iter_rows():
            models[window][model] = t
        as_of = []  # first appearance of each window's models, as of that window
        for window_models in models:
            for model, t in window_models.items():
                self._model_first_seen[model] = min(t, self._model_first_seen.get(model, t))
            as_of.append({model: self._model_first_seen[model] for model in window_models})
        accounts = _by_window(
            account_windows(due, self._fresh_models(self._model_first_seen), _WINDOW), count
        )
        for window, seen in enumerate(as_of):
            if any(self._model_first_seen[model] != t for model, t in seen.items()):
                own = due.filter(pl.col(_WINDOW) == window).drop(_WINDOW)
                accounts[window] = account_windows(own, self._fresh_models(seen))
        parts = zip(
            accounts,
            *(_by_window(frame, count) for frame in self._event_summaries(due)),
            strict=True,
        )
        return [_WindowInputs(*part) if part[0].height else None for part in parts]

    def _event_summaries(self, due: pl.DataFrame) -> list[pl.DataFrame]:
        """The other :class:`_WindowInputs` frames, for every window of ``due`` in one pass each.

        The sample for the next link batch keeps :attr:`ScorerConfig.link_sample`
        events per account and window (a deterministic sample by event id).
        Addresses of mobile networks are blanked first: carrier-grade NAT puts
        thousands of unrelated subscribers behind a few dozen addresses, so
        sharing one is no evidence of a common operator.
        """
        per_account = [_WINDOW, "account_id"]
        identity = (
            due.select(*per_account, "ts", "payment_fingerprint", "client_ip", "user_agent")
            .sort("ts", maintain_order=True)
            .group_by(per_account)
            .agg(pl.all().exclude("ts").drop_nulls().last())
            .select(
                *per_account,
                "payment_fingerprint",
                network_prefix(pl.col("client_ip")).alias("prefix"),
                "user_agent",
            )
        )
        rank = pl.col("event_id").hash(_SAMPLE_SEED).rank("ordinal").over(per_account)
        shared_nat = pl.col("asn_kind").is_in(SHARED_ADDRESS_KINDS).fill_null(False)
        sample = due.filter(rank <= self.config.link_sample).select(
            _WINDOW,
            *(
                pl.when(shared_nat).then(None).otherwise(pl.col(name)).alias(name)
                if name == "client_ip"
                else pl.col(name)
                for name in LINK_COLUMNS
            ),
        )
        bins = due.select(*per_account, pl.col("ts").dt.truncate(SYNC_BIN)).unique()
        payments = (
            due.filter(pl.col("payment_fingerprint").is_not_null())
            .group_by(*per_account, "payment_fingerprint")
            .agg(pl.col("ts").min())
        )
        return [identity, sample, bins, payments]

    def _fresh_models(self, first_seen: dict[str, int]) -> pl.DataFrame:
        """The models of ``first_seen`` that count as newly released, and their first appearance."""
        assert self._start_us is not None
        settled = self._start_us + int(self.config.model_warmup.total_seconds() * _US)
        fresh = {m: t for m, t in first_seen.items() if t > settled}
        return pl.DataFrame(
            {"model": list(fresh), "first_seen": [_dt(t) for t in fresh.values()]},
            schema={"model": pl.String, "first_seen": _TS},
        )

    def _close_window(
        self, end_us: int, inputs: _WindowInputs | None, value_ties: Future[pl.DataFrame] | None
    ) -> list[Flag]:
        """Score the window ending at ``end_us``; run a campaign step when one is due.

        ``inputs`` is what it takes from its events (None: it has none),
        ``value_ties`` the tied pairs of its campaign step's link batch (None:
        no step now; see :meth:`_start_value_ties`).
        """
        self._window_end = end_us + self._window_us
        flags: list[Flag] = []
        if inputs is not None:
            self._sync_bins = pl.concat([self._sync_bins, inputs.sync_bins])
            self._windows += 1
            flags += self._score_window(inputs)
        if value_ties is not None:
            flags += self._campaign_step(end_us, value_ties.result())
            self._next_step = end_us + self._step_us
        return flags

    def _score_window(self, inputs: _WindowInputs) -> list[Flag]:
        windows = inputs.accounts
        features = model_features(windows)
        anomaly = self._anomaly.score_learn_many(MODEL_FEATURES, features)
        verdict = np.full(len(features), np.nan)
        vectors = features.tolist()
        if self._classifier.ready:
            for i, row in enumerate(vectors):
                verdict[i] = self._classifier.score_one(dict(zip(MODEL_FEATURES, row, strict=True)))
        self._drift.update_many(anomaly)
        self._last_x.update(zip(windows["account_id"], vectors, strict=True))
        rows = self._state.fold(windows, anomaly, prior=self._drift.mean)
        self._state["verdict_p"][rows] = np.where(
            np.isnan(verdict), self._state["verdict_p"][rows], verdict
        )
        self._remember_identity(inputs.identity)
        self._link_reused_payments(inputs.payments)
        last = windows["time_last"].dt.epoch("us").to_numpy()
        return self._rescore(rows, last)

    def _remember_identity(self, latest: pl.DataFrame) -> None:
        """Latest payment fingerprint, network prefix and user agent of each account."""
        for account_id, card, prefix, agent in latest.iter_rows():
            old = self._identity.get(account_id, (None, None, None))
            self._identity[account_id] = (card or old[0], prefix or old[1], agent or old[2])

    def _link_reused_payments(self, payments: pl.DataFrame) -> None:
        """Tie accounts paying with a flagged campaign's card to that card's holders."""
        if not self._tracker.known_payments():
            return
        reused, edges = self._tracker.reuse(payments)
        self._reused.update(reused)
        if edges.height:  # most windows reuse no card: skip the polars passes of an empty add
            self._tracker.ties.add(edges, self._state.find)

    # -- campaigns ---------------------------------------------------------------------------
    def _value_ties(self, end_us: int) -> Callable[[], pl.DataFrame]:
        """Take the link batch of the events since the last step; a function that ties its pairs.

        The batch is taken here, on the caller's thread; the returned function
        touches nothing else of the scorer, so it may run on another thread.
        """
        batch = pl.concat(self._link_events) if self._link_events else None
        self._link_events = []

        def tie() -> pl.DataFrame:
            if batch is None or batch.height == 0:
                return tied_pairs(pl.DataFrame(schema=EDGE_SCHEMA))
            start = batch["ts"].min()
            links = account_links(batch.lazy(), start, _dt(end_us), TIE_VALUE_KINDS)  # type: ignore[arg-type]
            return tied_pairs(links)

        return tie

    def _add_links(
        self, end_us: int, final: bool, takes_part: np.ndarray, value_ties: pl.DataFrame
    ) -> None:
        """Add the step's value ties; sync ties over the trailing span when due.

        ``takes_part`` marks the state rows that take part in the clustering
        (see ``models.campaigns.MIN_NODE_ACTIVITY``); ``value_ties`` are the
        tied pairs of the events since the last step (:meth:`_value_ties`).
        """
        end = _dt(end_us)
        ties, rows = self._tracker.ties, self._state.find
        ties.add_tied(value_ties, rows)
        assert self._next_sync is not None
        if not (final or end_us >= self._next_sync):
            return
        # Trimmed to the span only when measured: a pass over every slot held,
        # at each step, cost more than the measurement itself.
        span_start = end - self.config.sync_span
        self._sync_bins = self._sync_bins.filter(pl.col("ts") >= span_start)
        if self._sync_bins.height:
            self._next_sync = end_us + int(self.config.sync_every.total_seconds() * _US)
            assert self._start_us is not None
            first = max(span_start, _dt(self._start_us))
            # Among the accounts that take part in the clustering now: it drops
            # the others' ties, and synchronisation is measured afresh each time.
            ids = [self._state.ids[r] for r in np.flatnonzero(takes_part)]
            bins = self._sync_bins.filter(pl.col("account_id").is_in(ids))
            sync = account_links(bins.lazy(), first, end, ("sync",))
            ties.add(sync, rows, sync=True)

    def _campaign_step(
        self, end_us: int, value_ties: pl.DataFrame, final: bool = False
    ) -> list[Flag]:
        """Re-cluster the ties so far, score the groups, re-score every account.

        ``value_ties`` are the tied pairs of the events since the last step
        (:meth:`_value_ties`), added with the sync ties by :meth:`_add_links`.
        """
        self._evict(end_us)
        state = self._state
        n = len(state)
        all_rows = np.arange(n)
        rates = scoring.account_rates(state, all_rows)
        takes_part = np.maximum(rates.extraction, rates.harvest) >= MIN_NODE_ACTIVITY
        self._add_links(end_us, final, takes_part, value_ties)
        retention_us = int(self.config.retention.total_seconds() * _US)
        self._tracker.ties.prune(end_us - retention_us)
        if n == 0:
            return []
        found = find_campaigns(
            self._tracker.ties,
            [rates.extraction, rates.long_extraction, rates.harvest],
            state["n_requests"],
            takes_part,
        )
        core_rows, core_group = found.core_rows, found.core_campaign
        stats = scoring.group_stats(
            core_group,
            found.n_campaigns,
            scoring.AccountRates(**{k: v[core_rows] for k, v in rates.__dict__.items()}),
            created_us=state["created_us"][core_rows],
            adoption_h=state["adoption_h"][core_rows],
            tie_kinds={family: found.groups.has_family(family)[core_rows] for family in FAMILIES},
            sketch=scoring.template_sketch(state, core_rows),
            known_templates=state["n_extraction_tmpl"][core_rows],
        )
        evidence = scoring.campaign_evidence(stats)
        row_campaign, member = found.campaign, found.member
        ids = self._name_campaigns(core_rows, core_group, evidence.score)
        self._campaigns = _Campaigns(
            row_campaign, member, ids, evidence.score, evidence.points, evidence.values
        )
        self._apply_reuse(row_campaign, member)
        flags = self._rescore(all_rows, np.full(n, end_us, dtype=np.int64))
        self._remember_campaign_payments(core_rows, core_group)
        return flags

    def _evict(self, now_us: int) -> None:
        """Forget accounts idle for longer than the retention (flagged ones are kept)."""
        retention_us = int(self.config.retention.total_seconds() * _US)
        new_row = self._state.evict(now_us - retention_us)
        if new_row is None:
            return
        self._tracker.ties.remap(new_row)
        kept = set(self._state.ids)
        for mapping in (self._identity, self._last_x, self._reused):
            for account_id in [a for a in mapping if a not in kept]:
                del mapping[account_id]

    def _name_campaigns(
        self, group_rows: np.ndarray, group_index: np.ndarray, scores: np.ndarray
    ) -> list[str]:
        """Stable ids of the groups that score as campaigns ("" for the others)."""
        ids = [""] * len(scores)
        named = np.flatnonzero(scores >= scoring.FLAG_THRESHOLD)
        if len(named) == 0:
            return ids
        state = self._state
        members: list[list[str]] = []
        anchors: list[str] = []
        for g in named:
            rows = group_rows[group_index == g]
            account_ids = [state.ids[r] for r in rows]
            first = state["first_us"][rows]
            order = np.lexsort((np.asarray(account_ids), first))
            members.append(account_ids)
            anchors.append(account_ids[order[0]])
        for g, campaign_id in zip(named, self._tracker.assign_ids(members, anchors), strict=True):
            ids[g] = campaign_id
        return ids

    def _apply_reuse(self, row_campaign: np.ndarray, member: np.ndarray) -> None:
        """Accounts paying with a flagged campaign's card join it (ban evasion)."""
        if not self._reused:
            return
        index = {cid: g for g, cid in enumerate(self._campaigns.ids) if cid}
        rows = self._state.find(self._reused)
        for row, campaign_id in zip(rows, self._reused.values(), strict=True):
            g = index.get(campaign_id)
            if row < 0 or g is None or row_campaign[row] >= 0:
                continue
            row_campaign[row] = g
            member[row] = REUSE_MEMBERSHIP

    def _remember_campaign_payments(self, core_rows: np.ndarray, core_group: np.ndarray) -> None:
        """Keep the payment fingerprints shared by two or more core members of flagged campaigns."""
        campaigns = self._campaigns
        holders: dict[tuple[int, str], list[str]] = {}
        # Core members of flagged campaigns only, picked in numpy: most core
        # members at most steps belong to groups that do not score as campaigns.
        flagged = campaigns.scores[core_group] >= scoring.FLAG_THRESHOLD
        for row, g in zip(core_rows[flagged].tolist(), core_group[flagged].tolist(), strict=True):
            account = self._state.ids[row]
            card = self._identity.get(account, (None, None, None))[0]
            if card:
                holders.setdefault((g, card), []).append(account)
        self._tracker.remember_infrastructure(
            {
                card: (campaigns.ids[g], accounts)
                for (g, card), accounts in holders.items()
                if len(accounts) >= 2
            }
        )

    # -- scores ------------------------------------------------------------------------------
    def _own(self, rows: np.ndarray) -> scoring.Evidence:
        state = self._state
        reference = self._drift.mean
        excess = (state["anomaly"][rows] - reference) / max(1.0 - reference, 1e-6)
        return scoring.own_evidence(
            scoring.account_rates(state, rows), excess, state["verdict_p"][rows].astype(float)
        )

    def _row_campaign_score(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Campaign score and membership of each row (0 for rows in no campaign)."""
        campaigns = self._campaigns
        score, member = np.zeros(len(rows)), np.zeros(len(rows))
        known = rows < len(campaigns.row_campaign)
        g = np.full(len(rows), -1, dtype=np.int64)
        g[known] = campaigns.row_campaign[rows[known]]
        inside = g >= 0
        score[inside] = campaigns.scores[g[inside]]
        member[inside] = campaigns.row_member[rows[inside]]
        return score, member

    def _rescore(self, rows: np.ndarray, when_us: np.ndarray) -> list[Flag]:
        """Recompute final scores of ``rows``; flag first crossings at ``when_us``."""
        state = self._state
        own = self._own(rows).score
        campaign, member = self._row_campaign_score(rows)
        final = scoring.combine(own, campaign, member)
        state["own"][rows] = own
        state["score"][rows] = final
        crossing = (final >= scoring.FLAG_THRESHOLD) & (state["flagged_us"][rows] == NO_TIME)
        new_rows = rows[crossing]
        state["flagged_us"][new_rows] = when_us[crossing]
        if len(new_rows) == 0:
            return []
        explained = self._explain(new_rows)
        return [
            Flag(
                account_id=state.ids[row],
                score=float(state["score"][row]),
                tier=scoring.tier(float(state["score"][row])),
                campaign_id=self._campaign_id(row),
                first_flagged_at=_dt(state["flagged_us"][row]),
                reasons=text,
            )
            for row, text in zip(new_rows, explained, strict=True)
        ]

    def _campaign_id(self, row: int) -> str | None:
        """Id of the campaign the row is a core member of (or linked to by reuse)."""
        campaigns = self._campaigns
        if row >= len(campaigns.row_campaign) or campaigns.row_campaign[row] < 0:
            return None
        if campaigns.row_member[row] < CORE_MEMBERSHIP:
            return None
        return campaigns.ids[campaigns.row_campaign[row]] or None

    def _explain(self, rows: np.ndarray) -> list[str]:
        """Reasons of each row: own terms, then campaign terms weighted by membership."""
        state = self._state
        own = self._own(rows)
        rates = scoring.account_rates(state, rows)
        campaigns = self._campaigns
        out = []
        for i, row in enumerate(rows):
            items: list[tuple[float, str, float | str]] = []
            for term, points in own.points.items():
                if term == "extraction":
                    parts = [
                        (code, float(getattr(rates, attr)[i])) for code, attr in _EXTRACTION_PARTS
                    ]
                    total = sum(v for _, v in parts) or 1.0
                    items += [(points[i] * v / total, code, v) for code, v in parts]
                else:
                    items.append((float(points[i]), term, float(own.values[term][i])))
            g = campaigns.row_campaign[row] if row < len(campaigns.row_campaign) else -1
            if g >= 0 and campaigns.ids[g]:
                weight = float(campaigns.row_member[row])
                for term, points in campaigns.points.items():
                    items.append(
                        (weight * float(points[g]), term, float(campaigns.values[term][g]))
                    )
                if self._reused.get(state.ids[row]) == campaigns.ids[g]:
                    items.append((weight * 10.0, "reuses_campaign_payment", campaigns.ids[g]))
            out.append(reasons(items))
        return out

    # -- output ------------------------------------------------------------------------------
    def flagged(self) -> pl.DataFrame:
        """Every account flagged so far, with its current score, tier and reasons."""
        state = self._state
        rows = np.flatnonzero(state["flagged_us"] != NO_TIME)
        campaign, _ = self._row_campaign_score(rows)
        scores = state["score"][rows].astype(np.float64)
        frame = pl.DataFrame(
            {
                "account_id": [state.ids[r] for r in rows],
                "score": scores,
                "tier": [scoring.tier(s) for s in scores],
                "campaign_id": [self._campaign_id(int(r)) for r in rows],
                "first_flagged_at": state["flagged_us"][rows],
                "reasons": self._explain(rows),
                "own_score": state["own"][rows].astype(np.float64),
                "campaign_score": campaign,
                "n_requests": state["n_requests"][rows],
                "first_seen": state["first_us"][rows],
                "last_seen": state["last_us"][rows],
            },
            schema_overrides={"campaign_id": pl.String},
        )
        return frame.with_columns(
            pl.col("first_flagged_at", "first_seen", "last_seen").cast(_TS)
        ).sort(["score", "account_id"], descending=[True, False])

    def campaigns(self) -> pl.DataFrame:
        """Campaigns of the latest step that have an id, with their indicators."""
        campaigns = self._campaigns
        state = self._state
        rows_all = np.flatnonzero(
            (campaigns.row_campaign >= 0) & (campaigns.row_member >= CORE_MEMBERSHIP)
        )
        records = []
        for g, campaign_id in enumerate(campaigns.ids):
            if not campaign_id:
                continue
            rows = rows_all[campaigns.row_campaign[rows_all] == g]
            records.append(
                {
                    "campaign_id": campaign_id,
                    "n_accounts": len(rows),
                    "n_requests": int(state["n_requests"][rows].sum()),
                    "first_seen": int(state["first_us"][rows].min()),
                    "last_seen": int(state["last_us"][rows].max()),
                    "score": float(campaigns.scores[g]),
                    "indicators": json.dumps(self._indicators(g, rows), sort_keys=True),
                }
            )
        frame = pl.DataFrame(records, schema=_CAMPAIGN_SCHEMA)
        return frame.with_columns(pl.col("first_seen", "last_seen").cast(_TS)).sort("campaign_id")

    def _indicators(self, g: int, rows: np.ndarray) -> dict[str, object]:
        """What links the campaign's accounts: shared values and evidence, for reviewers."""
        identities = [self._identity.get(self._state.ids[r], (None, None, None)) for r in rows]

        def shared(position: int) -> dict[str, int]:
            values = [ident[position] for ident in identities if ident[position]]
            found, counts = np.unique(np.asarray(values, dtype=object), return_counts=True)
            order = np.argsort(-counts, kind="stable")
            return {str(found[i]): int(counts[i]) for i in order[:10] if counts[i] >= 2}

        evidence = {term: float(values[g]) for term, values in self._campaigns.values.items()}
        return {
            "payment_fingerprints": shared(0),
            "network_prefixes": shared(1),
            "user_agents": shared(2),
            "evidence": {k: (round(v, 4) if np.isfinite(v) else None) for k, v in evidence.items()},
        }

    @property
    def counts(self) -> dict[str, int]:
        """Events seen, windows closed, accounts held, accounts flagged, drift alarms."""
        return {
            "events": self._events,
            "windows": self._windows,
            "accounts": len(self._state),
            "flagged": int((self._state["flagged_us"] != NO_TIME).sum()),
            "drift_alarms": self._drift.n_drifts,
        }

    # -- checkpoints ---------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The whole scorer (state, models, campaigns, pending events) as bytes."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(data: bytes) -> OnlineScorer:
        """A scorer from :meth:`snapshot` bytes."""
        scorer = pickle.loads(data)
        if not isinstance(scorer, OnlineScorer):
            raise TypeError("not an OnlineScorer snapshot")
        return scorer


_TS = pl.Datetime("us", "UTC")
#: Membership of an account linked to a campaign only by reusing its payment instrument.
REUSE_MEMBERSHIP = 0.8
_CAMPAIGN_SCHEMA = {
    "campaign_id": pl.String,
    "n_accounts": pl.Int64,
    "n_requests": pl.Int64,
    "first_seen": pl.Int64,
    "last_seen": pl.Int64,
    "score": pl.Float64,
    "indicators": pl.String,
}
