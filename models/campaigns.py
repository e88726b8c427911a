"""Coordinated campaigns: groups of accounts acting as one, found in the cross-account links.

**Edges in, ties out.** The scorer hands every batch of links of
:func:`features.links.account_links` to :class:`TieStore`, which keeps only
the *tied* pairs: those sharing evidence of a kind unrelated customers rarely
produce (:func:`tie_families`):

* a shared payment instrument (``payment`` ≥ :data:`PAYMENT_TIE`), or
* a shared client address seen by few accounts (``ip`` ≥ :data:`IP_TIE`;
  mobile carrier-grade NAT addresses are blanked before linking; such a tie
  alone counts :data:`ADDRESS_ONLY_TIE` of a tie towards membership, as VPN
  and proxy exits put strangers on one address), or
* synchronised activity (``sync`` ≥ :data:`SYNC_TIE` over at least
  :data:`SYNC_MIN_BINS` shared 5-minute slots, measured over days), or
* shared prompt content *and* shared network (template / near-duplicate prompt
  ≥ :data:`CONTENT_TIE` together with address / routing prefix ≥
  :data:`NETWORK_TIE`).

Content alone never ties two accounts: popular prompts, templates and problem
sets are shared by unrelated customers (on the simulator, the problem texts of
a campaign's templates are also asked by thousands of individuals). Neither
does a network hub: the link weights already discount values shared by many
accounts, and same-ISP-same-browser (``asn_ua``) is not network evidence here.

**Who takes part** (:data:`MIN_NODE_ACTIVITY`): only accounts that elicit
reasoning or harvest logits at all. A company of a hundred employees behind one
NAT on one card is tied together tightly, but it neither forms a campaign nor
bridges two (it is not in the graph); a batch pipeline neither.

**Groups** (:func:`find_campaigns`): connected components of the tied pairs;
then, per account, its *likeness* to its typical tied neighbour (extraction,
long-output and logit-harvest profile; an account sharing a payment instrument
with its neighbours need not match their output lengths, a client setting one
operator varies across accounts) and its *membership* (ties to alike
neighbours, counted against its volume, times likeness); the campaigns are the
components of the ties between *core* members (membership ≥
:data:`CORE_MEMBERSHIP`), where a tie of synchronised activity alone must also
close a triangle, and a core member must also be like its campaign's core
(customers of one VPN exit are like each other, not like the campaign whose
addresses they share). This two-level design is the camouflage and hub defence: a
reseller that shares a template with one campaign and an address with another
is not core, so it joins neither campaign's evidence and does not merge them;
a tutoring app with step-by-step prompts tied to a campaign harvesting long
reasoning is unlike its neighbours; a camouflaged member (benign traffic mixed
with the campaign's) is still alike enough to count. Connected components were
chosen over FRAUDAR-style peeling after measuring on the simulator: once ties
are restricted as above, components recover each campaign whole (its card
groups, proxy blocks and sync groups join up, which peeling by density splits
for large low-and-slow campaigns whose accounts each have few ties), and the
core step removes what chaining is left (on three seeds: no benign account in
any campaign, and the hydra, model-pivot, ban-evasion and mimicry campaigns
found as separate groups).

**Campaign evidence** (:func:`models.scoring.campaign_evidence`) scores each
campaign from its core members' state: size, reasoning-extraction share, flat
timing, fresh accounts created in bursts, shared payment / templates / network /
sync, hosting share, model-pivot speed; reasoning extraction counts only as far as
the group re-uses templates *across* its members (the OR of their template
sketches, :func:`models.scoring.shared_template_reuse`), which sets a campaign
filling a few templates apart from strangers tied by a VPN exit who each ask
their own questions.

**Stable ids.** A group that scores as a campaign keeps the id of the known
campaign most of its members belonged to (larger groups choose first, an id
goes to one group); a new one gets ``cmp_<hash of its earliest account>``, the
same for the same group in every run over the same events. Payment
fingerprints shared by core members of flagged campaigns are kept
(:meth:`CampaignTracker.remember_infrastructure`), so a fresh account that pays
with one later is linked to that campaign at once (ban evasion).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from features import _native
from features.links import EDGE_SCHEMA

#: Link kinds of :mod:`features.links`, by evidence family.
CONTENT_KINDS: tuple[str, ...] = ("template", "lsh")
#: Network kinds that, with shared content, tie two accounts. ``asn_ua`` (same
#: network operator and same client software) is left out: every customer of a
#: big ISP using the same browser or SDK shares it.
NETWORK_KINDS: tuple[str, ...] = ("ip", "prefix")
#: Kinds of shared-value links that can tie a pair (:func:`tie_families`): the
#: scorer asks :func:`features.links.account_links` for these alone.
TIE_VALUE_KINDS: tuple[str, ...] = (*CONTENT_KINDS, "payment", *NETWORK_KINDS)
KINDS: tuple[str, ...] = (*TIE_VALUE_KINDS, "sync")

#: Tie thresholds on link weights (see module docstring).
PAYMENT_TIE = 0.3
IP_TIE = 0.3
SYNC_TIE = 0.3
SYNC_MIN_BINS = 8
CONTENT_TIE = 0.3
NETWORK_TIE = 0.2
#: Accounts whose reasoning-extraction or logit-harvest share (shrunk, see
#: :mod:`models.scoring`) is below this take no part in the clustering: a
#: company of a hundred employees behind one NAT, or a batch pipeline, can
#: neither form a campaign nor bridge two groups.
MIN_NODE_ACTIVITY = 0.08
#: Smallest group that can be a campaign.
MIN_CAMPAIGN_ACCOUNTS = 3
#: Ties inside its group at which an account's membership is full.
FULL_MEMBERSHIP_TIES = 3
#: Weight of a tie by a shared address alone in an account's membership ties.
ADDRESS_ONLY_TIE = 0.5
#: Members with at least this membership make up the campaign: its evidence is
#: computed on them, and only they carry its id.
CORE_MEMBERSHIP = 0.5

_PAIR = ("account_a", "account_b")

#: Evidence families of a tie, as bits of its ``families`` mask.
FAMILIES: tuple[str, ...] = ("payment", "content", "network", "sync")
_BIT = {family: np.uint8(1 << i) for i, family in enumerate(FAMILIES)}


def _network() -> pl.Expr:
    """Noisy-OR of the network kinds' weights."""
    miss = pl.lit(1.0)
    for kind in NETWORK_KINDS:
        miss = miss * (1.0 - pl.col(kind))
    return 1.0 - miss


def tie_families() -> pl.Expr:
    """Bit mask of the evidence families that tie a pair of the wide pair table (0: no tie)."""
    content_and_network = (pl.max_horizontal(*CONTENT_KINDS) >= CONTENT_TIE) & (
        _network() >= NETWORK_TIE
    )
    bits = [
        (pl.col("payment") >= PAYMENT_TIE, _BIT["payment"]),
        (content_and_network, _BIT["content"]),
        (content_and_network | (pl.col("ip") >= IP_TIE), _BIT["network"]),
        (
            (pl.col("sync") >= SYNC_TIE) & (pl.col("sync_bins") >= SYNC_MIN_BINS),
            _BIT["sync"],
        ),
    ]
    mask = pl.lit(0, pl.UInt8)
    for condition, bit in bits:
        mask = mask + pl.when(condition).then(pl.lit(int(bit), pl.UInt8)).otherwise(0)
    return mask.cast(pl.UInt8)


def _may_tie() -> pl.Expr:
    """Whether an edge can count in :func:`tie_families`: a cheap filter before pairing.

    Exact: a pair has one edge per kind and batch, so an edge below its kind's
    tie threshold never ties; network edges combine (noisy-OR) and all stay.
    """
    kind, weight = pl.col("kind"), pl.col("weight")
    return (
        kind.is_in(NETWORK_KINDS)
        | (kind.is_in(CONTENT_KINDS) & (weight >= CONTENT_TIE))
        | ((kind == "payment") & (weight >= PAYMENT_TIE))
        | ((kind == "sync") & (weight >= SYNC_TIE) & (pl.col("n_shared") >= SYNC_MIN_BINS))
    )


def wide_pairs(edges: pl.DataFrame) -> pl.DataFrame:
    """Edge table (one row per pair and kind) to one row per pair, a weight column per kind."""
    weights = [
        pl.col("weight").filter(pl.col("kind") == kind).max().fill_null(0.0).alias(kind)
        for kind in KINDS
    ]
    sync_bins = pl.col("n_shared").filter(pl.col("kind") == "sync").max().fill_null(0)
    return edges.group_by(_PAIR).agg(
        *weights,
        sync_bins.cast(pl.UInt32).alias("sync_bins"),
        pl.col("last_seen").max(),
    )


def tied_pairs(edges: pl.DataFrame) -> pl.DataFrame:
    """The pairs an edge table ties, one row each, with the families that tie them.

    Columns ``account_a``, ``account_b``, ``families`` (bit mask, see
    :func:`tie_families`) and ``last_seen``; pairs without a family are dropped.
    """
    edges = edges.filter(_may_tie())
    if edges.height == 0:
        return pl.DataFrame(
            schema={
                **{name: EDGE_SCHEMA[name] for name in _PAIR},
                "families": pl.UInt8,
                "last_seen": EDGE_SCHEMA["last_seen"],
            }
        )
    return (
        wide_pairs(edges)
        .with_columns(tie_families().alias("families"))
        .filter(pl.col("families") > 0)
        .select(*_PAIR, "families", "last_seen")
    )


class TieStore:
    """Tied account pairs so far, in the row space of the scorer's account state.

    Each batch of links is reduced to its tied pairs at once (:func:`tie_families`);
    a pair keeps the union of the families that ever tied it and the time of
    its latest evidence. Synchronisation ties are measured over a long span
    and replace the previous measurement (:meth:`add` with ``sync=True``).
    """

    def __init__(self) -> None:
        self._a = np.empty(0, np.int64)
        self._b = np.empty(0, np.int64)
        self._families = np.empty(0, np.uint8)
        self._last_us = np.empty(0, np.int64)

    def __len__(self) -> int:
        return len(self._a)

    def add(
        self, edges: pl.DataFrame, rows: Callable[[list[str]], np.ndarray], *, sync: bool = False
    ) -> None:
        """Merge one batch of links (columns of :data:`features.links.EDGE_SCHEMA`).

        ``rows`` maps account ids to state rows (-1 for accounts no longer
        held: their pairs are dropped). With ``sync``, the batch is a
        new measurement of synchronised activity: earlier sync ties are dropped.
        """
        self.add_tied(tied_pairs(edges), rows, sync=sync)

    def add_tied(
        self, tied: pl.DataFrame, rows: Callable[[list[str]], np.ndarray], *, sync: bool = False
    ) -> None:
        """:meth:`add` for edges already reduced by :func:`tied_pairs`.

        The reduction is a function of the edges alone, so the online scorer
        runs it on a second thread beside its window scoring; the merge needs
        the state's rows and runs here.
        """
        if sync:
            self._families = self._families & ~_BIT["sync"]
            self._keep(self._families > 0)
        if tied.height == 0:
            return
        a = rows(tied["account_a"].to_list())
        b = rows(tied["account_b"].to_list())
        last = tied["last_seen"].dt.epoch("us").fill_null(0).to_numpy()
        known = (a >= 0) & (b >= 0)
        self._merge(a[known], b[known], tied["families"].to_numpy()[known], last[known])

    def _merge(self, a: np.ndarray, b: np.ndarray, families: np.ndarray, last: np.ndarray) -> None:
        a_all = np.concatenate([self._a, np.minimum(a, b)])
        b_all = np.concatenate([self._b, np.maximum(a, b)])
        fam_all = np.concatenate([self._families, families.astype(np.uint8)])
        last_all = np.concatenate([self._last_us, last.astype(np.int64)])
        key = (a_all << 32) | b_all
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        self._a, self._b = a_all[order][starts], b_all[order][starts]
        self._families = np.bitwise_or.reduceat(fam_all[order], starts)
        self._last_us = np.maximum.reduceat(last_all[order], starts)

    def _keep(self, mask: np.ndarray) -> None:
        self._a, self._b = self._a[mask], self._b[mask]
        self._families, self._last_us = self._families[mask], self._last_us[mask]

    def prune(self, idle_before_us: int) -> None:
        """Forget ties whose latest evidence is older than ``idle_before_us``."""
        self._keep(self._last_us >= idle_before_us)

    def remap(self, new_row: np.ndarray) -> None:
        """Follow a renumbering of the state rows (``new_row[old]``, -1 for dropped rows)."""
        a, b = new_row[self._a], new_row[self._b]
        keep = (a >= 0) & (b >= 0)
        self._keep(keep)
        self._a, self._b = a[keep], b[keep]

    def ties(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tied pairs as row arrays ``a``, ``b`` and their family masks."""
        return self._a, self._b, self._families


def components(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each node (the smallest node index in its component).

    Union-find in the native kernel (``features._native.components``): one
    pass over the ties, however long the chains.
    """
    return _native.components(n_nodes, _nodes(a), _nodes(b))


def _nodes(rows: np.ndarray) -> np.ndarray:
    """Tie ends as the native kernels take them."""
    return np.ascontiguousarray(rows, dtype=np.int64)


@dataclass
class Groups:
    """Result of one clustering pass over the state's accounts.

    Attributes
    ----------
    label
        Group label of every state row (rows without ties are alone).
    a, b
        The ties used (both ends active), as row arrays.
    families
        Family mask of each of those ties.
    """

    label: np.ndarray
    a: np.ndarray
    b: np.ndarray
    families: np.ndarray

    def sizes(self) -> np.ndarray:
        """Size of each row's group."""
        counts = np.bincount(self.label, minlength=len(self.label))
        return counts[self.label]

    def tied_to(self, partner: np.ndarray) -> np.ndarray:
        """Per row, ties to partners for which ``partner`` (a bool per row) is True.

        A shared payment instrument counts as :data:`FULL_MEMBERSHIP_TIES` ties:
        it is proof of a common operator on its own. A shared address alone
        (network family only) counts :data:`ADDRESS_ONLY_TIE` of a tie: commercial
        VPN and proxy exits put strangers on one address within the same half
        hour, so it takes several of them, or a second kind of evidence.
        """
        n = len(self.label)
        weight = np.where(
            (self.families & _BIT["payment"]) > 0,
            FULL_MEMBERSHIP_TIES,
            np.where(self.families == _BIT["network"], ADDRESS_ONLY_TIE, 1.0),
        )
        return np.bincount(self.a, weight * partner[self.b], minlength=n) + np.bincount(
            self.b, weight * partner[self.a], minlength=n
        )

    def has_family(self, family: str) -> np.ndarray:
        """Per row, whether it has a tie of ``family``."""
        has = np.zeros(len(self.label), dtype=bool)
        mask = (self.families & _BIT[family]) > 0
        has[self.a[mask]] = True
        has[self.b[mask]] = True
        return has


def group_accounts(store: TieStore, active: np.ndarray) -> Groups:
    """Connected components of the tied pairs between active accounts.

    Parameters
    ----------
    store
        The ties so far.
    active
        Per state row, whether the account takes part (see :data:`MIN_NODE_ACTIVITY`).
    """
    a, b, families = store.ties()
    used = active[a] & active[b]
    a, b, families = a[used], b[used], families[used]
    return Groups(components(len(active), a, b), a, b, families)


def likeness(own: list[np.ndarray], reference: list[np.ndarray]) -> np.ndarray:
    """How much accounts' traffic looks like a reference profile, in [0, 1].

    ``own`` and ``reference`` hold, per profile dimension (extraction share,
    long-output extraction share, logit-harvest share), the account's value and
    the reference value (the median of its tied neighbours, see
    :func:`neighbour_medians`). On every dimension
    where the reference is active (≥ 0.05) the account must reach half its
    level; the likeness is the worst ratio over those dimensions (capped at 1).
    A tutoring app that asks for step-by-step answers with short outputs is not
    like the accounts harvesting long reasoning it shares templates with.
    """
    ratio = np.ones_like(own[0], dtype=np.float64)
    for mine, theirs in zip(own, reference, strict=True):
        active = theirs >= 0.05
        level = np.clip(np.nan_to_num(mine) / np.maximum(0.5 * theirs, 1e-9), 0.0, 1.0)
        ratio = np.where(active, np.minimum(ratio, level), ratio)
    return ratio


def membership(ties: np.ndarray, n_requests: np.ndarray, alike: np.ndarray) -> np.ndarray:
    """How much of its campaign's evidence an account takes, in [0, 1].

    The product of how tied the account is (to accounts like their own
    neighbourhood) and its :func:`likeness`. Ties count against the account's
    volume: full at ``max(FULL_MEMBERSHIP_TIES, sqrt(n_requests) / 2)`` ties,
    so a reseller with 50,000 requests is not made a member by a few
    coincidences with a campaign's templates, while a low-and-slow account
    with a handful of requests and three ties is.
    """
    needed = np.maximum(FULL_MEMBERSHIP_TIES, np.sqrt(n_requests.astype(np.float64)) / 2.0)
    return np.clip(ties / needed, 0.0, 1.0) * alike


@dataclass
class Assignment:
    """Campaign structure found by one pass of :func:`find_campaigns`.

    Attributes
    ----------
    campaign
        Per state row, index of its campaign (``-1``: none).
    member
        Per state row, membership in that campaign (0 without one).
    core_rows, core_campaign
        The core members (membership ≥ :data:`CORE_MEMBERSHIP`) of every
        campaign, and the campaign of each; campaigns are scored on them.
    n_campaigns
        Number of campaigns.
    groups
        The active tie graph (for the tie families of members).
    """

    campaign: np.ndarray
    member: np.ndarray
    core_rows: np.ndarray
    core_campaign: np.ndarray
    n_campaigns: int
    groups: Groups


def neighbour_medians(groups: Groups, profile: list[np.ndarray]) -> list[np.ndarray]:
    """Per profile dimension and row, the median over its tied neighbours (0 without any).

    The median, not the mean: a campaign whose accounts draw varied client
    settings (a few with long output caps, most without) has a typical member
    without long outputs, and one long-output neighbour must not make the others
    unlike their neighbourhood; a tutoring app tied to accounts that all harvest
    long reasoning still has a long-output median. NaN counts as 0; the median
    of an even count is the mean of the middle two. One native pass over each
    row's neighbours (``features._native.neighbour_medians``).
    """
    n = len(groups.label)
    values = np.ascontiguousarray(np.vstack(profile), dtype=np.float64).reshape(len(profile), n)
    medians = _native.neighbour_medians(_nodes(groups.a), _nodes(groups.b), values)
    return list(medians.reshape(len(profile), n))


def _supported(a: np.ndarray, b: np.ndarray, families: np.ndarray) -> np.ndarray:
    """Which ties hold: all but sync-only ties whose ends have no common neighbour.

    Synchronised activity is the one evidence that chance produces among
    thousands of always-on accounts; accounts really run together are active
    with several others, so a sync-only tie must close a triangle.
    """
    keep = np.ones(len(a), dtype=bool)
    lone_sync = np.flatnonzero(families == _BIT["sync"])
    if len(lone_sync) == 0:
        return keep
    n = int(max(a.max(), b.max())) + 1
    keep[lone_sync] = _native.closes_triangle(n, _nodes(a), _nodes(b), _nodes(lone_sync))
    return keep


#: Position of the long-output extraction share in :func:`find_campaigns`' profile.
LONG_OUTPUT_DIMENSION = 1


def find_campaigns(
    store: TieStore, profile: list[np.ndarray], n_requests: np.ndarray, active: np.ndarray
) -> Assignment:
    """Groups of accounts acting as one, and how strongly each account belongs.

    1. Connected components of the ties between active accounts
       (:func:`group_accounts`); components smaller than
       :data:`MIN_CAMPAIGN_ACCOUNTS` are no campaign.
    2. Each account's :func:`likeness` to its tied neighbours, and its
       :func:`membership` from its ties to neighbours that are themselves
       like theirs.
    3. Campaigns are the components of the ties between *core* members
       (membership ≥ :data:`CORE_MEMBERSHIP`; sync-only ties must close a
       triangle, see :func:`_supported`) with at least
       :data:`MIN_CAMPAIGN_ACCOUNTS` of them, found again after each core
       member's membership is scaled by its likeness to the median of its
       campaign's core (look-alike strangers tied to a campaign by shared
       addresses are like each other, not like the campaign). Accounts that
       only bridge two groups (a reseller sharing a template with one and an
       address with another) are not core, so they neither merge campaigns
       nor count in their evidence. A non-core account tied to a campaign's
       core gets that campaign with its (lower) membership.
    """
    groups = group_accounts(store, active)
    candidate = groups.sizes() >= MIN_CAMPAIGN_ACCOUNTS
    paid = groups.has_family("payment")
    alike = np.where(
        candidate, _paid_likeness(profile, neighbour_medians(groups, profile), paid), 0.0
    )
    member = np.where(candidate, membership(groups.tied_to(alike >= 1.0), n_requests, alike), 0.0)
    labels, core = _core_campaigns(groups, member >= CORE_MEMBERSHIP)
    # A core member must also be like its campaign's core, not only like its own
    # neighbours: customers of one VPN exit, tied to each other by popular
    # questions from shared addresses and to a campaign by those addresses, are
    # like each other and so were core members of the campaign on one seed.
    fit = _paid_likeness(profile, _core_medians(profile, labels, core), paid)
    unlike = core & (fit < 1.0)
    if unlike.any():  # most steps: every core member is like its campaign
        member = np.where(unlike, member * fit, member)
        labels, core = _core_campaigns(groups, core & (member >= CORE_MEMBERSHIP))
    core_rows = np.flatnonzero(core)
    kept, core_campaign = np.unique(labels[core_rows], return_inverse=True)
    campaign = np.full(len(core), -1, dtype=np.int64)
    campaign[core_rows] = core_campaign
    # non-core accounts join the campaign of a core neighbour
    a, b = groups.a, groups.b
    to_core = core[b] & ~core[a]
    from_core = core[a] & ~core[b]
    campaign[a[to_core]] = campaign[b[to_core]]
    campaign[b[from_core]] = campaign[a[from_core]]
    member = np.where(campaign >= 0, member, 0.0)
    return Assignment(campaign, member, core_rows, core_campaign, len(kept), groups)


def _paid_likeness(
    profile: list[np.ndarray], reference: list[np.ndarray], paid: np.ndarray
) -> np.ndarray:
    """:func:`likeness`, where accounts sharing a payment instrument skip the output lengths.

    A shared payment instrument proves a common operator: an account sharing one
    need not match the reference's output lengths (a client setting such
    operators vary from account to account), only its extraction and harvest.
    """
    alike = likeness(profile, reference)
    settings_free = [i for i in range(len(profile)) if i != LONG_OUTPUT_DIMENSION]
    alike[paid] = np.maximum(
        alike[paid],
        likeness(
            [profile[i][paid] for i in settings_free], [reference[i][paid] for i in settings_free]
        ),
    )
    return alike


def _core_campaigns(groups: Groups, core: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Components of the ties between core rows, and the core rows in one of a campaign's size.

    Sync-only ties must close a triangle (:func:`_supported`).
    """
    inner = core[groups.a] & core[groups.b]
    inner[inner] = _supported(groups.a[inner], groups.b[inner], groups.families[inner])
    labels = components(len(core), groups.a[inner], groups.b[inner])
    counts = np.bincount(labels, core, minlength=len(core))
    return labels, core & (counts[labels] >= MIN_CAMPAIGN_ACCOUNTS)


def _core_medians(
    profile: list[np.ndarray], labels: np.ndarray, core: np.ndarray
) -> list[np.ndarray]:
    """Per profile dimension and row, the median over its campaign's core (0 outside one).

    NaN counts as 0; the median of an even count is the mean of the middle two.
    """
    rows = np.flatnonzero(core)
    if len(rows) == 0:
        return [np.zeros(len(core)) for _ in profile]
    out = []
    for values in profile:
        value = np.nan_to_num(values[rows])
        order = np.lexsort((value, labels[rows]))
        label, value = labels[rows][order], value[order]
        starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
        counts = np.diff(np.r_[starts, len(label)])
        by_label = np.zeros(len(core))
        by_label[label[starts]] = (
            value[starts + (counts - 1) // 2] + value[starts + counts // 2]
        ) / 2
        out.append(np.where(core, by_label[labels], 0.0))
    return out


def campaign_id_for(anchor_account: str) -> str:
    """Stable id of a campaign first found around ``anchor_account``."""
    return "cmp_" + hashlib.blake2b(anchor_account.encode(), digest_size=6).hexdigest()


class CampaignTracker:
    """Ties so far, campaign ids and campaign infrastructure, across clustering passes."""

    def __init__(self) -> None:
        self.ties = TieStore()
        self._member_of: dict[str, str] = {}
        self._payment_of: dict[str, tuple[str, list[str]]] = {}

    def assign_ids(self, groups: list[list[str]], anchors: list[str]) -> list[str]:
        """Campaign id of each scored group: the known id most members had, else a new one.

        ``groups`` are the account ids of each group, ``anchors`` the account
        that names a new campaign (its earliest account). Larger groups choose
        first, and an id goes to one group only: when a campaign splits, its
        largest part keeps the id. Members are recorded under the returned id.
        """
        out = [""] * len(groups)
        taken: set[str] = set()
        for g in sorted(range(len(groups)), key=lambda i: (-len(groups[i]), anchors[i])):
            known = [self._member_of[m] for m in groups[g] if m in self._member_of]
            values, counts = np.unique(np.asarray(known, dtype=object), return_counts=True)
            ranked = [str(values[i]) for i in np.argsort(-counts, kind="stable")]
            free = [campaign for campaign in ranked if campaign not in taken]
            campaign = free[0] if free else campaign_id_for(anchors[g])
            taken.add(campaign)
            for member in groups[g]:
                self._member_of[member] = campaign
            out[g] = campaign
        return out

    def remember_infrastructure(self, holders: dict[str, tuple[str, list[str]]]) -> None:
        """Record payment fingerprints of flagged campaigns: card → (campaign id, its holders)."""
        self._payment_of.update(holders)

    def known_payments(self) -> list[str]:
        """Payment fingerprints recorded for flagged campaigns."""
        return list(self._payment_of)

    def reuse(self, payments: pl.DataFrame) -> tuple[dict[str, str], pl.DataFrame]:
        """Accounts paying with a known campaign's card, and the ties that reuse makes.

        ``payments`` has ``account_id``, ``payment_fingerprint`` and ``ts``, in
        any order. Returns account id → campaign id for the accounts that are not among
        the card's recorded holders, and payment links (columns of
        :data:`features.links.EDGE_SCHEMA`) between each of them and those
        holders: a ban-evading wave that comes back on old cards is tied to
        the campaign it continues, even though the two never overlapped.
        """
        reused: dict[str, str] = {}
        pairs: list[tuple[str, str, object]] = []
        if self._payment_of and payments.height:
            # In Python, not polars: a window has a few hundred cards, nearly all
            # paid by their recorded holders, and a polars filter, sort and row
            # iteration cost milliseconds per window to find none.
            accounts = payments["account_id"].to_list()
            cards = payments["payment_fingerprint"].to_list()
            known = sorted(  # by account and card: a deterministic order of the ties
                (account, card, i)
                for i, (account, card) in enumerate(zip(accounts, cards, strict=True))
                if card in self._payment_of and account not in self._payment_of[card][1]
            )
            ts = payments["ts"].gather([i for _, _, i in known]).to_list()
            for (account, card, _), when in zip(known, ts, strict=True):
                campaign, card_holders = self._payment_of[card]
                reused[account] = campaign
                pairs += [(min(account, h), max(account, h), when) for h in card_holders]
        edges = pl.DataFrame(
            {
                "account_a": [a for a, _, _ in pairs],
                "account_b": [b for _, b, _ in pairs],
                "kind": ["payment"] * len(pairs),
                "weight": [1.0] * len(pairs),
                "first_seen": [t for _, _, t in pairs],
                "last_seen": [t for _, _, t in pairs],
                "n_shared": [1] * len(pairs),
            },
            schema=EDGE_SCHEMA,
        )
        return reused, edges
