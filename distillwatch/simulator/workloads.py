"""What accounts send: one workload per population or campaign, producing :class:`Request` objects.

A workload is an account's request generator: prompt text (from
:mod:`~distillwatch.simulator.text`), model, endpoint and request parameters. It knows
nothing of timing, networks or logging. Workloads that need per-session state (the
benchmark of a research run, the prefix a logit harvester is sweeping, the step of a
coding agent's task) derive it from the session number through :class:`SessionMemo`,
so it does not depend on how sessions interleave.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Generic, Protocol, TypeVar

from distillwatch.simulator import text
from distillwatch.simulator.seeding import derive_seed
from distillwatch.simulator.text import AppPersona, BatchTemplate, Kind, Template

__all__ = [
    "BATCH",
    "CHAT",
    "EMBEDDINGS",
    "RESPONSES",
    "AppBackendWorkload",
    "BatchWorkload",
    "BlendWorkload",
    "ClientStyle",
    "CodingAgentWorkload",
    "CorporateWorkload",
    "HarvestWorkload",
    "IndividualWorkload",
    "MimicryWorkload",
    "ModelMix",
    "Request",
    "ResearcherWorkload",
    "ResellerWorkload",
    "SessionMemo",
    "TemplateWorkload",
    "WhaleWorkload",
    "Workload",
]

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"
BATCH = "/v1/batch"
"""API routes."""

T = TypeVar("T")


@dataclass(slots=True)
class Request:
    """One API request as the client sent it; the gateway adds status, tokens and latency.

    ``context_tokens`` counts input the prompt text does not show (earlier turns, files
    in an agent's context). ``None`` parameters were not set by the client.
    """

    model: str
    endpoint: str
    prompt: str
    kind: Kind
    system_prompt: str | None = None
    context_tokens: int = 0
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias_size: int | None = None
    stream: bool | None = None
    tool_count: int | None = None


class Workload(Protocol):
    """An account's request generator."""

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return the request sent at ``t`` (seconds into the window) in session ``session``."""
        ...


@dataclass(frozen=True, slots=True)
class ModelMix:
    """Which chat model an account asks for, and when it moves to the newly released one.

    Attributes
    ----------
    large, small, new_large : str
        Model names.
    large_share : float
        Share of requests on a large model (the rest go to the small one).
    adopt_at : float
        Time (seconds into the window) from which the account uses the new model;
        ``math.inf`` for never.
    adopted_share : float
        Share of large-model requests on the new model once adopted.
    """

    large: str
    small: str
    new_large: str
    large_share: float
    adopt_at: float = math.inf
    adopted_share: float = 0.0

    def pick(self, rng: Random, t: float) -> str:
        """Return the model of a request at ``t``."""
        if rng.random() >= self.large_share:
            return self.small
        if t >= self.adopt_at and rng.random() < self.adopted_share:
            return self.new_large
        return self.large


@dataclass(slots=True)
class SessionMemo(Generic[T]):
    """Per-session state derived from ``(seed, session)``, cached for the current session."""

    seed: int
    make: Callable[[Random], T]
    _session: int = -1
    _state: T | None = None

    def get(self, session: int) -> T:
        """Return the state of ``session``, creating it from a session-seeded RNG if needed."""
        if session != self._session or self._state is None:
            self._session = session
            self._state = self.make(Random(derive_seed(self.seed, session)))
        return self._state


@dataclass(frozen=True, slots=True)
class ClientStyle:
    """How a person's client sets request parameters: often not at all.

    Attributes
    ----------
    temperature : float or None
        The client's temperature; ``None`` if it leaves the default.
    max_tokens : int or None
        The client's output cap.
    stream : bool
        Whether it streams.
    """

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stream: bool

    @staticmethod
    def draw(rng: Random) -> ClientStyle:
        """Return the style of a new client, as spread over real users."""
        return ClientStyle(
            temperature=rng.choice((None, None, None, 0.7, 1.0, 0.2, 0.5)),
            top_p=rng.choice((None, None, None, None, 1.0, 0.95, 0.9)),
            max_tokens=rng.choice((None, None, 1024, 2048, 4096, 800, 16_000)),
            stream=rng.random() < 0.6,
        )


@dataclass(frozen=True, slots=True)
class IndividualWorkload:
    """A person asking everyday questions, in their language, sometimes step by step."""

    models: ModelMix
    language: str
    step_by_step_share: float
    style: ClientStyle
    responses_share: float

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return an everyday request."""
        prompt, kind = text.individual_prompt(
            rng, self.language, rng.random() < self.step_by_step_share
        )
        return Request(
            model=self.models.pick(rng, t),
            endpoint=RESPONSES if rng.random() < self.responses_share else CHAT,
            prompt=prompt,
            kind=kind,
            context_tokens=_history(rng, 0.3, 600),
            max_tokens=self.style.max_tokens,
            temperature=self.style.temperature,
            top_p=self.style.top_p,
            stream=self.style.stream,
        )


def _history(rng: Random, share: float, mean_tokens: float) -> int:
    """Return tokens of earlier conversation turns sent along (``share`` of requests have any)."""
    return int(rng.expovariate(1.0 / mean_tokens)) if rng.random() < share else 0


@dataclass(frozen=True, slots=True)
class AppBackendWorkload:
    """An application serving many end users behind one fixed system prompt.

    Attributes
    ----------
    persona : AppPersona
        The app's domain and system prompt.
    embedding_model : str
        Model of the app's retrieval look-ups.
    embed_share : float
        Share of requests that embed a user query for retrieval.
    temperature, top_p, max_tokens, stream :
        The app's fixed settings.
    """

    persona: AppPersona
    models: ModelMix
    embedding_model: str
    embed_share: float
    temperature: float
    top_p: float | None
    max_tokens: int | None
    stream: bool

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return the next end user's request, or a retrieval embedding."""
        prompt, kind = self.persona.user_prompt(rng)
        if rng.random() < self.embed_share:
            return Request(
                model=self.embedding_model, endpoint=EMBEDDINGS, prompt=prompt, kind="embed"
            )
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=prompt,
            kind=kind,
            system_prompt=self.persona.system_prompt,
            context_tokens=_history(rng, 0.5, 900),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            n=1,
            stream=self.stream,
        )


@dataclass(frozen=True, slots=True)
class BatchWorkload:
    """A pipeline running one slotted template at temperature 0 with short outputs."""

    template: BatchTemplate
    model: str
    endpoint: str
    max_tokens: int

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return the next row of the batch job."""
        prompt = self.template.fill(rng)
        if self.template.kind == "embed":
            return Request(model=self.model, endpoint=self.endpoint, prompt=prompt, kind="embed")
        return Request(
            model=self.model,
            endpoint=self.endpoint,
            prompt=prompt,
            kind=self.template.kind,
            max_tokens=self.max_tokens,
            temperature=0.0,
            top_p=1.0,
            n=1,
            logprobs=False,
            stream=False,
        )


@dataclass(frozen=True, slots=True)
class _Run:
    benchmark: str
    logprobs: bool
    top_logprobs: int | None
    max_tokens: int
    logit_bias_size: int


def _new_run(rng: Random, logprob_share: float) -> _Run:
    benchmark = rng.choices(list(text.BENCHMARKS), weights=list(text.BENCHMARKS.values()))[0]
    if benchmark in ("mmlu", "boolq") and rng.random() < logprob_share:
        # scoring by the answer letter's log-probability, sometimes restricted by logit bias
        return _Run(benchmark, True, rng.choice((5, 10, 20)), 1, rng.choice((0, 0, 2, 4)))
    return _Run(benchmark, False, None, rng.choice((256, 512, 1024)), 0)


@dataclass(frozen=True, slots=True)
class ResearcherWorkload:
    """Benchmark runs: each session runs one benchmark at temperature 0, often with logprobs."""

    models: ModelMix
    runs: SessionMemo[_Run]

    @staticmethod
    def create(models: ModelMix, seed: int, logprob_share: float) -> ResearcherWorkload:
        """Return a researcher's workload; ``logprob_share`` of runs score by log-probability."""
        return ResearcherWorkload(models, SessionMemo(seed, lambda r: _new_run(r, logprob_share)))

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return the next item of the current benchmark run."""
        run = self.runs.get(session)
        prompt, kind = text.benchmark_prompt(rng, run.benchmark)
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=prompt,
            kind=kind,
            max_tokens=run.max_tokens,
            temperature=0.0,
            top_p=1.0,
            n=1,
            logprobs=run.logprobs,
            top_logprobs=run.top_logprobs,
            logit_bias_size=run.logit_bias_size,
            stream=False,
        )


@dataclass(frozen=True, slots=True)
class CorporateWorkload:
    """An employee using the company's internal assistant (one system prompt for the company)."""

    models: ModelMix
    system_prompt: str
    step_by_step_share: float

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return an office task."""
        prompt, kind = text.work_prompt(rng, rng.random() < self.step_by_step_share)
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=prompt,
            kind=kind,
            system_prompt=self.system_prompt,
            context_tokens=_history(rng, 0.4, 700),
            max_tokens=2048,
            temperature=0.3,
            top_p=1.0,
            n=1,
            stream=True,
        )


@dataclass(slots=True)
class _Task:
    step: int = 0
    context: int = 0


@dataclass(frozen=True, slots=True)
class CodingAgentWorkload:
    """A coding agent: tool declarations, context that grows with each step of a task."""

    models: ModelMix
    tool_count: int
    max_tokens: int
    temperature: float | None
    step_by_step_share: float
    system_prompt: str
    tasks: SessionMemo[_Task]

    @staticmethod
    def create(
        models: ModelMix,
        seed: int,
        *,
        tool_count: int,
        max_tokens: int,
        temperature: float | None,
        step_by_step_share: float,
    ) -> CodingAgentWorkload:
        """Return a coding agent's workload; ``seed`` seeds its per-task state."""
        return CodingAgentWorkload(
            models,
            tool_count,
            max_tokens,
            temperature,
            step_by_step_share,
            "You are a coding agent working in the user's repository. Use the tools to read "
            "and edit files and run commands. Keep changes small.",
            SessionMemo(seed, lambda _: _Task()),
        )

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return the next turn of the agent's current task."""
        task = self.tasks.get(session)
        prompt, kind = text.coding_prompt(rng, task.step, rng.random() < self.step_by_step_share)
        task.context += (3_000 + int(rng.expovariate(1 / 2_500))) if task.step else 6_000
        task.step += 1
        return Request(
            model=self.models.pick(rng, t),
            endpoint=RESPONSES,
            prompt=prompt,
            kind=kind,
            system_prompt=self.system_prompt,
            context_tokens=min(task.context, 180_000),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            n=1,
            stream=True,
            tool_count=self.tool_count,
        )


@dataclass(frozen=True, slots=True)
class ResellerWorkload:
    """A reseller forwarding many different customers' traffic through one account."""

    customers: tuple[Workload, ...]

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return a request of one of the customers."""
        return rng.choice(self.customers).request(rng, t, session)


@dataclass(frozen=True, slots=True)
class TemplateWorkload:
    """A campaign's extraction traffic: shared templates, fixed sampling, high max_tokens.

    Attributes
    ----------
    templates : tuple of Template
        The campaign's shared English templates.
    foreign : tuple of Template
        Its templates in other languages, used for ``foreign_share`` of the requests.
    """

    models: ModelMix
    templates: tuple[Template, ...]
    foreign: tuple[Template, ...]
    foreign_share: float
    system_prompt: str | None
    max_tokens: int
    temperature: float
    top_p: float

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return a filled campaign template."""
        pool = (
            self.foreign if self.foreign and rng.random() < self.foreign_share else self.templates
        )
        template = rng.choice(pool)
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=template.fill(rng),
            kind=template.kind,
            system_prompt=self.system_prompt,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            n=1,
            logprobs=False,
            stream=False,
        )


@dataclass(frozen=True, slots=True)
class BlendWorkload:
    """Benign traffic with a share of campaign traffic from ``start_s`` on (a mixed reseller)."""

    base: Workload
    campaign: Workload
    share: float
    start_s: float

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return a campaign request with probability ``share`` after the start, else a benign."""
        if t >= self.start_s and rng.random() < self.share:
            return self.campaign.request(rng, t, session)
        return self.base.request(rng, t, session)


@dataclass(frozen=True, slots=True)
class WhaleWorkload:
    """One account generating a synthetic training set: varied topics, long reasoned answers."""

    models: ModelMix
    max_tokens: int

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return a dataset-generation request."""
        prompt, kind = text.dataset_prompt(rng)
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=prompt,
            kind=kind,
            max_tokens=self.max_tokens,
            temperature=1.0,
            top_p=1.0,
            n=1,
            logprobs=False,
            stream=False,
        )


@dataclass(frozen=True, slots=True)
class HarvestWorkload:
    """Logit harvesting: one prefix per session, queried with many logit-bias maps, 1 token out."""

    model: str
    logit_bias_size: tuple[int, int]
    prefixes: SessionMemo[str]

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return one probe of the current prefix."""
        return Request(
            model=self.model,
            endpoint=CHAT,
            prompt=self.prefixes.get(session),
            kind="label",
            max_tokens=1,
            temperature=0.0,
            top_p=1.0,
            n=1,
            logprobs=True,
            top_logprobs=20,
            logit_bias_size=rng.randint(*self.logit_bias_size),
            stream=False,
        )


@dataclass(frozen=True, slots=True)
class MimicryWorkload:
    """Paraphrased extraction prompts sent with a person's varied client settings."""

    models: ModelMix
    style: ClientStyle

    def request(self, rng: Random, t: float, session: int) -> Request:
        """Return a casual-looking extraction request."""
        prompt, kind = text.mimicry_prompt(rng)
        return Request(
            model=self.models.pick(rng, t),
            endpoint=CHAT,
            prompt=prompt,
            kind=kind,
            max_tokens=self.style.max_tokens,
            temperature=self.style.temperature,
            top_p=self.style.top_p,
            stream=self.style.stream,
        )
