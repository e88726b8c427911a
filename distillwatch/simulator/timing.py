"""When accounts send requests: daily rhythms in local time and session processes.

An account's requests come in sessions (a person's chat, an agent's task loop, a
benchmark run, a burst of parallel workers); independent requests are sessions of one.
Session starts follow a non-homogeneous Poisson process whose intensity is the
account's :class:`Rhythm` (hour-of-day shape in its local time, weekday/weekend
factor), drawn by thinning. :class:`GroupSessions` makes several accounts share one
session schedule, the synchronised activity of a campaign operated by one team.

All times are seconds since the start of the scenario window.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from random import Random
from typing import Protocol

__all__ = ["SHAPES", "Activity", "GroupSessions", "Rhythm", "Sessions"]

DAY_S = 86_400.0

SHAPES: dict[str, tuple[tuple[float, ...], float]] = {
    "personal": (
        (
            0.30,
            0.18,
            0.10,
            0.06,
            0.05,
            0.06,
            0.12,
            0.25,
            0.45,
            0.60,
            0.70,
            0.75,
            0.78,
            0.75,
            0.72,
            0.72,
            0.75,
            0.80,
            0.85,
            0.92,
            1.00,
            1.00,
            0.85,
            0.55,
        ),
        1.1,
    ),
    "office": (
        (
            0.00,
            0.00,
            0.00,
            0.00,
            0.00,
            0.00,
            0.02,
            0.10,
            0.50,
            0.95,
            1.00,
            0.95,
            0.60,
            0.85,
            1.00,
            0.95,
            0.85,
            0.55,
            0.20,
            0.08,
            0.05,
            0.03,
            0.01,
            0.00,
        ),
        0.04,
    ),
    "app": (
        (
            0.45,
            0.35,
            0.28,
            0.25,
            0.25,
            0.30,
            0.40,
            0.55,
            0.70,
            0.80,
            0.85,
            0.90,
            0.92,
            0.90,
            0.88,
            0.88,
            0.90,
            0.92,
            0.95,
            1.00,
            1.00,
            0.95,
            0.80,
            0.60,
        ),
        1.0,
    ),
    "research": (
        (
            0.35,
            0.25,
            0.15,
            0.08,
            0.05,
            0.05,
            0.05,
            0.10,
            0.30,
            0.60,
            0.85,
            0.95,
            0.90,
            0.95,
            1.00,
            1.00,
            0.95,
            0.85,
            0.70,
            0.60,
            0.60,
            0.60,
            0.55,
            0.45,
        ),
        0.5,
    ),
    "developer": (
        (
            0.10,
            0.05,
            0.03,
            0.02,
            0.02,
            0.03,
            0.06,
            0.15,
            0.45,
            0.85,
            1.00,
            0.95,
            0.65,
            0.90,
            1.00,
            1.00,
            0.90,
            0.70,
            0.45,
            0.35,
            0.35,
            0.30,
            0.25,
            0.15,
        ),
        0.35,
    ),
    "flat": ((1.0,) * 24, 1.0),
}
"""Hour-of-day intensity (local time, peak 1) and weekend factor of each kind of rhythm."""


@dataclass(frozen=True, slots=True)
class Rhythm:
    """A daily rhythm: a shape from :data:`SHAPES` in a time zone.

    Attributes
    ----------
    shape : str
        Key of :data:`SHAPES`.
    utc_offset_h : float
        The account's UTC offset in hours.
    start_weekday : int
        Weekday of the window start (Monday = 0), so weekends fall on the right days.
    """

    shape: str
    utc_offset_h: float
    start_weekday: int

    def weights(self) -> tuple[float, ...]:
        """Return the intensity of each hour of the week since the window start, peak 1."""
        return _week_weights(self.shape, self.utc_offset_h, self.start_weekday)


@cache
def _week_weights(shape: str, utc_offset_h: float, start_weekday: int) -> tuple[float, ...]:
    hourly, weekend = SHAPES[shape]
    weights = []
    for h in range(168):
        local = h + 0.5 + utc_offset_h
        weekday = (start_weekday + math.floor(local / 24)) % 7
        factor = weekend if weekday >= 5 else 1.0
        weights.append(hourly[math.floor(local) % 24] * factor)
    peak = max(weights)
    return tuple(w / peak for w in weights)


class Activity(Protocol):
    """When an account sends its requests."""

    def times(self, rng: Random) -> Iterator[tuple[float, int]]:
        """Yield ``(t, session_number)`` of each request in increasing ``t``; at least one."""
        ...


@dataclass(frozen=True, slots=True)
class Sessions:
    """Sessions whose starts follow a rhythm, each a geometric number of spaced requests.

    Attributes
    ----------
    rhythm : Rhythm
        Intensity of session starts over the week.
    requests_per_day : float
        Mean number of requests on an active day.
    session_size : float
        Mean number of requests per session (1: independent requests).
    gap_s : float
        Median gap between consecutive requests of a session (log-normal).
    start_s, end_s : float
        The account is active in ``[start_s, end_s)``.
    active_day_share : float
        Probability that the account is active on a given day at all.
    """

    rhythm: Rhythm
    requests_per_day: float
    session_size: float
    gap_s: float
    start_s: float
    end_s: float
    active_day_share: float = 1.0

    def starts(self, rng: Random) -> Iterator[float]:
        """Yield session start times by thinning a homogeneous Poisson process."""
        weights = self.rhythm.weights()
        mean_weight = sum(weights) / len(weights)
        sessions_per_s = self.requests_per_day / self.session_size / DAY_S
        peak_rate = sessions_per_s / mean_weight
        if peak_rate <= 0:
            return
        t = self.start_s
        day, active = -1, True
        while True:
            t += rng.expovariate(peak_rate)
            if t >= self.end_s:
                return
            if self.active_day_share < 1.0 and int(t // DAY_S) != day:
                day = int(t // DAY_S)
                active = rng.random() < self.active_day_share
            if active and rng.random() < weights[int(t // 3600) % 168]:
                yield t

    def fallback_start(self, rng: Random) -> float:
        """Return one session start drawn from the rhythm, for an account that drew none."""
        weights = self.rhythm.weights()
        t = self.start_s
        for _ in range(1000):
            t = rng.uniform(self.start_s, self.end_s)
            if rng.random() < weights[int(t // 3600) % 168]:
                break
        return t

    def times(self, rng: Random) -> Iterator[tuple[float, int]]:
        """Yield ``(t, session_number)`` of each request in increasing ``t``; at least one."""
        return _requests(self.starts(rng), self, rng)


@dataclass(frozen=True, slots=True)
class GroupSessions:
    """Accounts of one group joining the group's shared session schedule.

    Every account regenerates the same schedule from ``group_seed``; each joins a
    session with probability ``join_share``, a little after it starts.

    Attributes
    ----------
    schedule : Sessions
        The group's session process (its ``requests_per_day`` counts every session).
    group_seed : int
        Seed of the shared schedule.
    join_share : float
        Probability that the account takes part in a session.
    max_lag_s : float
        Largest delay of the account's first request after the session start.
    """

    schedule: Sessions
    group_seed: int
    join_share: float
    max_lag_s: float

    def times(self, rng: Random) -> Iterator[tuple[float, int]]:
        """Yield ``(t, session_number)`` of each request in increasing ``t``; at least one."""

        def joined() -> Iterator[float]:
            last = self.schedule.start_s
            for start in self.schedule.starts(Random(self.group_seed)):
                if rng.random() < self.join_share:
                    last = max(last, start + rng.uniform(0.0, self.max_lag_s))
                    yield last

        return _requests(joined(), self.schedule, rng)


def _requests(
    starts: Iterator[float], sessions: Sessions, rng: Random
) -> Iterator[tuple[float, int]]:
    """Expand increasing session starts into requests, merged in time order.

    Sessions may overlap, so requests wait in a small heap until no later session can
    start before them. An account whose process drew no session gets one from
    :meth:`Sessions.fallback_start`, so every account appears in the events.
    """
    first = next(starts, None)
    if first is None:
        first = sessions.fallback_start(rng)
    log_continue = math.log(1.0 - 1.0 / sessions.session_size) if sessions.session_size > 1 else 0
    log_gap = math.log(sessions.gap_s)
    pending: list[tuple[float, int]] = []
    session = 0
    upcoming: float | None = first
    while True:
        while upcoming is not None and (not pending or upcoming <= pending[0][0]):
            size = 1 if not log_continue else 1 + int(math.log(1.0 - rng.random()) / log_continue)
            t = upcoming
            for _ in range(size):
                if t >= sessions.end_s:
                    break
                heapq.heappush(pending, (t, session))
                t += math.exp(rng.gauss(log_gap, 0.5))
            session += 1
            upcoming = next(starts, None)
        if not pending:
            return
        yield heapq.heappop(pending)
