"""Traffic simulator: synthetic LLM-API access logs with labelled distillation campaigns.

It drives the demo, the tests and the evaluation. A :class:`Scenario` (see
:data:`PRESETS`) describes benign populations — individuals, application back ends,
batch pipelines, researchers, corporate users, coding agents, resellers — and campaign
instances — hydra, model pivot, ban evasion, mixed reseller, whale, logit harvesting,
mimicry. For a scenario and a seed the simulator deterministically produces:

- events: ``api_access_log`` v1 dicts (see ``shared/contract``), in emission order,
  which is event-time order up to a small log delay (:func:`iter_events`), or a
  ``.jsonl.gz`` file of them (:func:`simulate_to_file`, :func:`write_simulation`);
- labels: one row per account, ``account_id, population, campaign_id, campaign_type,
  campaign_start`` (:func:`write_labels`, :func:`account_labels`).

Benign populations are deliberately hard negatives, and campaigns share no single tell:
only combinations, and cross-account structure, separate them. Generation is lazy per
account, so memory grows with the number of accounts, not of events.
"""

from distillwatch.simulator.config import PRESETS, Scenario, scenario_for
from distillwatch.simulator.generate import (
    SimulationSummary,
    account_labels,
    iter_events,
    simulate_to_file,
    write_labels,
    write_simulation,
)
from distillwatch.simulator.populations import (
    BENIGN_POPULATIONS,
    CAMPAIGN_TYPES,
    AccountLabel,
)

__all__ = [
    "BENIGN_POPULATIONS",
    "CAMPAIGN_TYPES",
    "PRESETS",
    "AccountLabel",
    "Scenario",
    "SimulationSummary",
    "account_labels",
    "iter_events",
    "scenario_for",
    "simulate_to_file",
    "write_labels",
    "write_simulation",
]
