"""Prompt text: template families with slots, filled from :mod:`~distillwatch.simulator.vocab`.

Every generator takes the account's :class:`random.Random` and returns a prompt, most
with the :data:`Kind` of answer the request asks for (which sets the completion length
downstream). Families:

- benign: everyday intents of individuals in six languages, application back ends
  (system prompt + user prompt), batch templates with slots, benchmark items,
  workplace tasks, coding-agent turns;
- campaigns: the extraction templates (chain-of-thought elicitation, reasoning
  reconstruction, rubric grading, agentic planning, sensitive-topic rewrites), their
  casual paraphrases for mimicry, prefixes for logit harvesting, dataset-generation
  prompts for the whale.

Benign families ask for step-by-step reasoning too (tutoring, homework, chain-of-thought
benchmarks, coding agents), so the phrase alone is not a tell.

Also here: :func:`estimate_tokens` (the tokenizer stand-in) and :func:`simhash64` (the
SimHash a text-withholding gateway sends instead of the prompt).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from typing import Literal

import numpy as np

from distillwatch.simulator import vocab as v

__all__ = [
    "BENCHMARKS",
    "CAMPAIGN_FAMILIES",
    "AppPersona",
    "BatchTemplate",
    "Kind",
    "Template",
    "app_persona",
    "batch_template",
    "benchmark_prompt",
    "campaign_templates",
    "casual",
    "coding_prompt",
    "corporate_system_prompt",
    "dataset_prompt",
    "estimate_tokens",
    "foreign_cot_templates",
    "harvest_prefix",
    "individual_prompt",
    "mimicry_prompt",
    "passage",
    "problem",
    "simhash64",
    "step_by_step_phrase",
    "ticket",
    "word_problem",
    "work_prompt",
]

Kind = Literal["chat", "long", "reasoning", "code", "plan", "short", "label", "embed"]
"""What the request asks the model to produce; sets the completion length."""

Prompt = tuple[str, Kind]


# --------------------------------------------------------------------------- slot values


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _fraction(num: int, den: int) -> str:
    g = math.gcd(num, den)
    return f"{num // g}/{den // g}"


def word_problem(rng: Random) -> tuple[str, str]:
    """Return a grade-school word problem with random numbers and its answer."""
    name = rng.choice(v.FIRST_NAMES)
    form = rng.randrange(9)
    if form == 0:
        a, b = rng.randint(2, 9), rng.randint(2, 12)
        p, q = rng.randint(150, 600) / 100, rng.randint(50, 250) / 100
        cost = a * p + b * q
        bill = 20 * math.ceil((cost + 1) / 20)
        return (
            f"{name} buys {a} notebooks at {_money(p)} each and {b} pens at {_money(q)} "
            f"each. {name} pays with a {_money(bill)} bill. How much change is left?",
            _money(bill - cost),
        )
    if form == 1:
        price, off, tax = (
            rng.randint(20, 400),
            rng.choice((10, 15, 20, 25, 30, 40)),
            rng.choice((5, 7, 8, 10, 19, 20)),
        )
        return (
            f"A jacket costs {_money(price)}. It is discounted by {off}% and then a {tax}% "
            f"sales tax is added. What is the final price?",
            _money(price * (1 - off / 100) * (1 + tax / 100)),
        )
    if form == 2:
        d, v1, v2 = rng.randint(120, 900), rng.randint(50, 130), rng.randint(50, 130)
        c1, c2 = rng.sample(v.TOWNS, 2)
        return (
            f"A train leaves {c1} travelling at {v1} km/h towards {c2}, {d} km away. At the "
            f"same time a second train leaves {c2} towards {c1} at {v2} km/h. After how many "
            f"hours do they meet?",
            f"{d / (v1 + v2):.2f} hours",
        )
    if form == 3:
        n1, d1, n2 = rng.randint(3, 12), rng.randint(4, 30), rng.randint(2, 20)
        return (
            f"If {n1} workers can build a wall in {d1} days, how many days would {n2} "
            f"workers need, working at the same rate?",
            f"{n1 * d1 / n2:.2f} days",
        )
    if form == 4:
        w, k = rng.randint(3, 40), rng.randint(1, 25)
        return (
            f"A rectangle has a perimeter of {2 * (2 * w + k)} cm and its length is {k} cm "
            f"longer than its width. What is its area?",
            f"{w * (w + k)} cm²",
        )
    if form == 5:
        r, b, g = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 8)
        n = r + b + g
        return (
            f"A bag contains {r} red, {b} blue and {g} green marbles. Two marbles are drawn "
            f"without replacement. What is the probability that both are red?",
            _fraction(r * (r - 1), n * (n - 1)),
        )
    if form == 6:
        x, y = rng.randint(5, 90), rng.randint(1, 60)
        return (
            f"The sum of two numbers is {x + y + y} and their difference is {x}. What are "
            f"the two numbers?",
            f"{x + y} and {y}",
        )
    if form == 7:
        d1, v1, d2, v2 = (
            rng.randint(5, 60),
            rng.randint(10, 30),
            rng.randint(5, 60),
            rng.randint(10, 30),
        )
        avg = (d1 + d2) / (d1 / v1 + d2 / v2)
        return (
            f"{name} cycles {d1} km at {v1} km/h and then {d2} km at {v2} km/h. What is the "
            f"average speed for the whole trip?",
            f"{avg:.2f} km/h",
        )
    principal, rate, years = (
        rng.randint(5, 200) * 100,
        rng.choice((2, 3, 4, 5, 6, 7)),
        rng.randint(2, 15),
    )
    return (
        f"{_money(principal)} is invested at {rate}% interest compounded annually. How much "
        f"is it worth after {years} years?",
        _money(principal * (1 + rate / 100) ** years),
    )


def problem(rng: Random) -> str:
    """Return a problem statement: a word problem, an algorithm task or a science question."""
    roll = rng.random()
    if roll < 0.6:
        return word_problem(rng)[0]
    if roll < 0.8:
        return f"Write a function that {rng.choice(v.CODE_TASKS)}."
    return f"Why does {rng.choice(v.SCIENCE_PHENOMENA)}?"


def passage(rng: Random, sentences: int = 3) -> str:
    """Return a short news-style paragraph."""
    head = (
        f"{rng.choice(v.NEWS_SUBJECTS)} {rng.choice(v.NEWS_VERBS)} "
        f"{rng.choice(v.NEWS_OBJECTS)} on {rng.choice(('Monday', 'Tuesday', 'Thursday'))}."
    )
    return " ".join([head, *rng.sample(v.NEWS_DETAILS, max(0, sentences - 1))])


def ticket(rng: Random) -> str:
    """Return a customer's support message: an issue plus the specifics people add."""
    specifics = (
        f"Order #{rng.randint(100000, 999999)}.",
        f"It started on {rng.choice(('Monday', 'Tuesday', 'the weekend', 'the 3rd'))}.",
        f"I'm on {rng.choice(('an iPhone 15', 'a Pixel 8', 'Windows 11', 'a Mac', 'Chrome'))}.",
        f"This is the {rng.choice(('second', 'third', 'fourth'))} time I'm writing.",
        "I already tried logging out and in again.",
        f"Account number {rng.randint(1000000, 9999999)}.",
    )
    extra = " ".join(rng.sample(specifics, rng.randint(0, 2)))
    return f"{rng.choice(v.TICKET_ISSUES)}. {extra}".strip()


def _review(rng: Random) -> str:
    opinion = rng.choice((v.REVIEW_OPINIONS_POS, v.REVIEW_OPINIONS_NEG, v.REVIEW_OPINIONS_MIXED))
    return f"{rng.choice(v.REVIEW_OPENERS)} {rng.choice(opinion)}"


def _product_title(rng: Random) -> str:
    return (
        f"{rng.choice(v.BRANDS)} {rng.choice(v.PRODUCT_ADJECTIVES).title()} "
        f"{rng.choice(v.PRODUCTS).title()}, {rng.choice(('Black', 'Grey', 'Blue', 'White'))}"
        f", {rng.choice(('2-Pack', '1 Count', 'Large', '500 ml', 'Gen 2', '2026 Model'))}"
    )


def _invoice(rng: Random) -> str:
    return (
        f"INVOICE #{rng.randint(10000, 99999)}  {rng.choice(v.VENDORS)}  "
        f"Date: {rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026  "
        f"Services rendered: {rng.choice(v.WORK_TOPICS)}  Net {_money(rng.randint(100, 9000))}"
        f"  VAT {rng.choice((0, 7, 19, 20))}%  Payment due within 30 days."
    )


def _mc_block(rng: Random) -> tuple[str, str, str]:
    subject, question, right, wrong = rng.choice(v.MC_ITEMS)
    options = [right, *wrong]
    rng.shuffle(options)
    lines = "\n".join(f"{letter}. {opt}" for letter, opt in zip("ABCD", options, strict=True))
    return subject, f"{question}\n{lines}", "ABCD"[options.index(right)]


# ------------------------------------------------------------------------ style and language

_STEP_BY_STEP = {
    "en": (
        "Explain step by step.",
        "Walk me through it step by step.",
        "Please show your reasoning.",
        "Think it through carefully before answering.",
        "Can you break it down step by step?",
    ),
    "de": (
        "Denke Schritt für Schritt nach und erkläre jeden Schritt.",
        "Erkläre mir bitte den Lösungsweg Schritt für Schritt.",
    ),
    "es": ("Piensa paso a paso y explica tu razonamiento.", "Explícalo paso a paso, por favor."),
    "fr": (
        "Réfléchis étape par étape et détaille ton raisonnement.",
        "Explique-moi chaque étape, s'il te plaît.",
    ),
    "zh": ("请一步一步地思考，并写出完整的推理过程。", "请分步骤解释。"),
    "ja": (
        "ステップバイステップで考えて、推論の過程をすべて書いてください。",
        "手順を追って説明してください。",
    ),
}


def step_by_step_phrase(rng: Random, language: str = "en") -> str:
    """Return a request for step-by-step reasoning in ``language``."""
    return rng.choice(_STEP_BY_STEP.get(language, _STEP_BY_STEP["en"]))


def casual(rng: Random, text: str) -> str:
    """Roughen a prompt the way people type: lower case, dropped punctuation, typos, thanks."""
    roll = rng.random()
    if roll < 0.25:
        text = text[:1].lower() + text[1:]
    if 0.15 < roll < 0.35 and text[-1:] in "?.":
        text = text[:-1]
    if rng.random() < 0.06:
        words = text.split(" ")
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = rng.randrange(len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            text = " ".join(words)
    if rng.random() < 0.1:
        text += rng.choice((" thanks!", " thx", " pls", " Thank you.", " 🙏"))
    return text


_FOREIGN: dict[str, tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]] = {
    "de": (
        (
            "Wie kann ich {}?",
            (
                (
                    "meine Steuererklärung online einreichen",
                    "Schimmel im Bad entfernen",
                    "einen Lebenslauf für eine Bewerbung schreiben",
                    "mein WLAN schneller machen",
                    "Sauerteig ansetzen",
                ),
            ),
        ),
        (
            "Kannst du mir {} einfach erklären?",
            (("den Zinseszins", "die Relativitätstheorie", "Inflation", "Photosynthese"),),
        ),
        (
            "Schreib eine höfliche E-Mail an meinen Vermieter, weil {}.",
            (
                (
                    "die Heizung seit drei Tagen nicht funktioniert",
                    "ich meine Kaution zurück möchte",
                    "es nachts im Treppenhaus sehr laut ist",
                ),
            ),
        ),
        (
            "Übersetze bitte ins Englische: „{}“",
            (
                (
                    "Das Meeting wurde auf Dienstag verschoben.",
                    "Bitte reiche deine Spesen bis Monatsende ein.",
                ),
            ),
        ),
    ),
    "es": (
        (
            "¿Cómo puedo {}?",
            (
                (
                    "mejorar mi historial crediticio",
                    "aprender a programar en Python",
                    "quitar una mancha de vino de una alfombra",
                ),
            ),
        ),
        (
            "Explícame {} de forma sencilla.",
            (
                (
                    "el interés compuesto",
                    "la fotosíntesis",
                    "la inflación",
                    "cómo funcionan las vacunas",
                ),
            ),
        ),
        (
            "Escribe un correo formal a mi jefe para {}.",
            (("pedir un día libre el viernes", "solicitar un aumento de sueldo"),),
        ),
    ),
    "fr": (
        (
            "Comment puis-je {} ?",
            (
                (
                    "préparer un entretien d’embauche",
                    "économiser sur ma facture d’électricité",
                    "déclarer mes impôts en ligne",
                ),
            ),
        ),
        (
            "Peux-tu m’expliquer {} simplement ?",
            (("l’intérêt composé", "la photosynthèse", "le réchauffement climatique"),),
        ),
        (
            "Rédige un e-mail poli à {} pour {}.",
            (
                ("mon propriétaire", "mon professeur"),
                ("demander un délai", "décaler notre rendez-vous"),
            ),
        ),
    ),
    "zh": (
        ("请用简单的语言解释一下{}。", (("复利", "光合作用", "区块链", "通货膨胀", "机器学习"),)),
        ("帮我写一封给{}的邮件，{}。", (("老板", "房东", "老师"), ("请假一天", "询问押金退还"))),
        ("如何{}？", (("提高英语口语", "学习Python编程", "准备技术面试"),)),
        (
            "把这句话翻译成英文：{}",
            (("明天的会议改到下午三点。", "这家餐厅的菜很好吃，但是服务太慢了。"),),
        ),
    ),
    "ja": (
        (
            "{}について分かりやすく説明してください。",
            (("複利", "光合作用", "量子もつれ", "機械学習"),),
        ),
        ("{}方法を教えてください。", (("英語の発音を良くする", "Pythonでファイルを読み込む"),)),
        (
            "次の文を英語に翻訳してください：{}",
            (("来週の会議は火曜日に変更になりました。", "この商品は思ったより小さかったです。"),),
        ),
        ("上司に{}メールを書いてください。", (("休暇をお願いする", "会議の日程変更を伝える"),)),
    ),
}
"""Everyday prompts in other languages: patterns with ``{}`` slots and the options per slot."""


def _foreign_intent(rng: Random, language: str) -> str:
    pattern, slots = rng.choice(_FOREIGN[language])
    return pattern.format(*(rng.choice(options) for options in slots))


# ------------------------------------------------------------------------------- individuals


def _english_intent(rng: Random) -> Prompt:
    form = rng.randrange(14)
    if form == 0:
        return f"How do I {rng.choice(v.HOW_TO_TASKS)}?", "chat"
    if form == 1:
        return rng.choice(
            (
                "Can you explain {} in simple terms?",
                "ELI5: {}",
                "What is {} and why does it matter?",
            )
        ).format(rng.choice(v.CONCEPTS)), "chat"
    if form == 2:
        return (
            f"Write a {rng.choice(v.EMAIL_TONES)} email to my {rng.choice(v.EMAIL_RECIPIENTS)}"
            f" {rng.choice(v.EMAIL_PURPOSES)}.",
            "chat",
        )
    if form == 3:
        a, b = rng.choice(v.COMPARISONS)
        return f"What's the difference between {a} and {b}?", "chat"
    if form == 4:
        return (
            f"Plan a {rng.randint(2, 7)}-day trip to {rng.choice(v.CITIES)} for "
            f"{rng.choice(v.TRIP_WHO)} on a {rng.choice(v.TRIP_BUDGET)} budget.",
            "long",
        )
    if form == 5:
        i1, i2, i3 = rng.sample(v.INGREDIENTS, 3)
        return (
            f"Give me a recipe for {rng.choice(v.DISHES)} using {i1} and {i2}. I don't have {i3}.",
            "long",
        )
    if form == 6:
        lang, code, error = rng.choice(v.CODE_SNIPPETS)
        return f"Why does this give {error}?\n\n```{lang}\n{code}\n```", "code"
    if form == 7:
        return (
            f"Summarize this in {rng.randint(2, 5)} bullet points:\n\n"
            f"{passage(rng, rng.randint(2, 5))}",
            "short",
        )
    if form == 8:
        return f'Translate into {rng.choice(v.LANGUAGES)}: "{rng.choice(v.SENTENCES)}"', "short"
    if form == 9:
        return f"Give me {rng.randint(3, 15)} ideas for {rng.choice(v.BRAINSTORM_THINGS)}.", "long"
    if form == 10:
        return word_problem(rng)[0], "reasoning"
    if form == 11:
        return f"I'm {rng.choice(v.SITUATIONS)}. What should I do?", "chat"
    if form == 12:
        return (
            f"Make this sound more {rng.choice(v.REWRITE_QUALITIES)}: {rng.choice(v.SENTENCES)}",
            "short",
        )
    return f"Why does {rng.choice(v.SCIENCE_PHENOMENA)}?", "chat"


def individual_prompt(rng: Random, language: str, step_by_step: bool) -> Prompt:
    """Return an everyday prompt of an individual user.

    Parameters
    ----------
    rng : Random
        The account's randomness.
    language : str
        The user's language; people outside English-speaking regions still write
        English about half of the time.
    step_by_step : bool
        Whether to ask for step-by-step reasoning.
    """
    kind: Kind
    if language in _FOREIGN and rng.random() < 0.5:
        text, kind = _foreign_intent(rng, language), "chat"
    else:
        text, kind = _english_intent(rng)
        text = casual(rng, text)
        language = "en"
    if step_by_step:
        return f"{text} {step_by_step_phrase(rng, language)}", "reasoning"
    return text, kind


# ------------------------------------------------------------------------- application back ends

_APP_SYSTEM = {
    "support": "You are {app}, the customer support assistant for {brand}. Answer questions about "
    "orders, billing and accounts. Be concise and friendly. If you cannot resolve an "
    "issue, offer to open a ticket. Never promise refunds.",
    "writing": "You are {app}, a writing assistant built into {brand} Docs. Improve the user's "
    "text while keeping their voice. Return only the revised text unless asked "
    "otherwise.",
    "tutoring": "You are {app}, a patient maths and science tutor for secondary-school students "
    "using the {brand} learning app. Guide the student step by step and never just "
    "give the final answer.",
    "travel": "You are {app}, the trip-planning assistant of {brand} Travel. Suggest realistic "
    "itineraries with approximate costs. Ask about dates and budget if missing.",
    "commerce": "You write product descriptions for the {brand} online store. Use a warm, "
    "confident tone, 80 to 120 words, no superlatives, and end with one sentence on "
    "care instructions.",
    "recipes": "You are {app}, the cooking assistant in the {brand} recipe app. Suggest recipes "
    "that use what the user has, with metric quantities and total time.",
    "legal": "You are {app}, a contract review assistant for small businesses, provided by "
    "{brand}. Summarise clauses in plain English and flag unusual terms. Remind the "
    "user that this is not legal advice.",
    "fitness": "You are {app}, a friendly fitness coach in the {brand} app. Give safe, "
    "progressive plans and ask about injuries before suggesting exercises.",
}


def _app_user_prompt(rng: Random, domain: str) -> Prompt:
    if domain == "support":
        return casual(rng, ticket(rng)), "chat"
    if domain == "writing":
        if rng.random() < 0.5:
            return f"Make this clearer: {passage(rng, rng.randint(2, 4))}", "short"
        return f"Rewrite to sound more {rng.choice(v.REWRITE_QUALITIES)}: " + rng.choice(
            v.SENTENCES
        ), "short"
    if domain == "tutoring":
        if rng.random() < 0.6:
            ask = rng.choice(("i dont get it", "how do i start", "is the answer right?", ""))
            return casual(rng, f"{word_problem(rng)[0]} {ask}".strip()), "reasoning"
        return casual(rng, f"can you explain {rng.choice(v.CONCEPTS)}"), "reasoning"
    if domain == "travel":
        return (
            f"{rng.randint(2, 10)} days in {rng.choice(v.CITIES)} with "
            f"{rng.choice(v.TRIP_WHO)}, {rng.choice(v.TRIP_BUDGET)} budget. Ideas?",
            "long",
        )
    if domain == "commerce":
        return (
            f"Product: {_product_title(rng)}. Key features: "
            f"{', '.join(rng.sample(v.PRODUCT_ADJECTIVES, 3))}.",
            "chat",
        )
    if domain == "recipes":
        return (
            f"I have {', '.join(rng.sample(v.INGREDIENTS, rng.randint(2, 5)))}. What can I "
            f"cook in under {rng.choice((20, 30, 45))} minutes?",
            "long",
        )
    if domain == "legal":
        ask = rng.choice(
            (
                "Summarise this clause and flag anything unusual:",
                "Is this clause standard for a contract like ours?",
                "What does this mean for us in plain English?",
                "Should we push back on this?",
            )
        )
        return f"{ask}\n\nClause {rng.randint(2, 30)}.{rng.randint(1, 9)}: {_clause(rng)}", "chat"
    weeks, days = rng.randint(4, 16), rng.randint(2, 6)
    return casual(
        rng,
        f"I'm {rng.randint(18, 70)} and {rng.choice(v.SITUATIONS)}. I can train "
        f"{days} days a week{rng.choice(v.FITNESS_CONSTRAINTS)}. Make me a "
        f"{weeks}-week plan to {rng.choice(v.FITNESS_GOALS)}.",
    ), "long"


def _clause(rng: Random) -> str:
    """Return a contract clause with its own parties, periods and amounts."""
    form = rng.randrange(4)
    party, other = rng.choice(
        (
            ("Supplier", "Customer"),
            ("Licensee", "Licensor"),
            ("Contractor", "Client"),
            ("Tenant", "Landlord"),
        )
    )
    if form == 0:
        cause = rng.choice(("any breach of this Agreement", "third-party claims", "data loss"))
        return (
            f"The {party} shall indemnify the {other} against all losses arising from "
            f"{cause}, save that liability shall not exceed EUR "
            f"{rng.randint(1, 40) * 5_000:,}."
        )
    if form == 1:
        return (
            f"Either party may terminate this Agreement on {rng.choice((14, 30, 60, 90))} "
            f"days' written notice; the {party} shall pay all fees accrued up to the "
            f"termination date within {rng.choice((7, 14, 30))} days."
        )
    if form == 2:
        return (
            f"The {party} shall keep the {other}'s Confidential Information secret for "
            f"{rng.randint(2, 10)} years after termination and use it only to perform this "
            f"Agreement."
        )
    return (
        f"Invoices are payable within {rng.choice((15, 30, 45, 60))} days; late payments "
        f"accrue interest at {rng.choice((0.5, 1, 1.5, 2))}% per month and the {other} may "
        f"suspend services after {rng.randint(2, 6)} weeks."
    )


@dataclass(frozen=True, slots=True)
class AppPersona:
    """An application built on the API: its fixed system prompt and its users' prompt domain."""

    domain: str
    system_prompt: str

    def user_prompt(self, rng: Random) -> Prompt:
        """Return the next end user's prompt."""
        return _app_user_prompt(rng, self.domain)


def app_persona(rng: Random) -> AppPersona:
    """Return a new application: a domain and a system prompt with its own product names."""
    domain = rng.choice(v.APP_DOMAINS)
    system = _APP_SYSTEM[domain].format(app=rng.choice(v.APP_NAMES), brand=rng.choice(v.BRANDS))
    return AppPersona(domain, system)


# ----------------------------------------------------------------------------- batch pipelines


@dataclass(frozen=True, slots=True)
class BatchTemplate:
    """One batch pipeline's fixed prompt template and the slot filler that varies per row."""

    name: str
    kind: Kind
    fill: Callable[[Random], str]


_BATCH_TEMPLATES = (
    BatchTemplate(
        "sentiment",
        "label",
        lambda r: (
            "Classify the sentiment of the following customer review as positive, negative or "
            f"neutral. Reply with one word.\n\nReview: {_review(r)}"
        ),
    ),
    BatchTemplate(
        "invoice",
        "short",
        lambda r: (
            "Extract the vendor name, invoice date and net amount from the text below. Return JSON "
            f"with keys vendor, date, amount.\n\nText: {_invoice(r)}"
        ),
    ),
    BatchTemplate(
        "category",
        "label",
        lambda r: (
            f"Assign the product to exactly one of these categories: "
            f"{', '.join(v.PRODUCT_CATEGORIES)}. Answer with the category name only.\n\n"
            f"Product title: {_product_title(r)}"
        ),
    ),
    BatchTemplate(
        "translate",
        "short",
        lambda r: (
            "Translate the following product title into German. Output only the translation.\n\n"
            f"{_product_title(r)}"
        ),
    ),
    BatchTemplate(
        "routing",
        "label",
        lambda r: (
            "Route this support ticket to one of: billing, technical, account, sales, other. "
            "Answer "
            f"with the queue name.\n\nTicket #{r.randint(100000, 999999)}: {ticket(r)}"
        ),
    ),
    BatchTemplate("embed", "embed", lambda r: passage(r, r.randint(1, 4))),
)


def batch_template(rng: Random) -> BatchTemplate:
    """Return the template a new batch pipeline will run for all its rows."""
    return rng.choice(_BATCH_TEMPLATES)


# ---------------------------------------------------------------------------------- benchmarks

BENCHMARKS = {"mmlu": 0.4, "gsm8k_cot": 0.2, "humaneval": 0.15, "boolq": 0.15, "summarization": 0.1}
"""Benchmarks the researchers run, with how often a run picks each; a burst runs one of them."""


def benchmark_prompt(rng: Random, benchmark: str) -> Prompt:
    """Return one item of ``benchmark`` in the usual evaluation-harness format."""
    if benchmark == "mmlu":
        subject, block, _ = _mc_block(rng)
        return (
            f"The following are multiple choice questions (with answers) about {subject}."
            f"\n\n{block}\nAnswer:",
            "label",
        )
    if benchmark == "gsm8k_cot":
        return f"Question: {word_problem(rng)[0]}\nLet's think step by step.", "reasoning"
    if benchmark == "humaneval":
        task = rng.choice(v.CODE_TASKS)
        name = "_".join(task.split()[:3]).replace(",", "")
        return (
            f'Complete the following function.\n\n```python\ndef {name}(*args):\n    """'
            f'Return a result that {task}."""\n```',
            "code",
        )
    if benchmark == "boolq":
        return (
            f"Passage: {passage(rng, 3)}\nQuestion: is the decision final?\nAnswer yes or "
            f"no.\nAnswer:",
            "label",
        )
    return f"Summarize the article in one sentence.\n\n{passage(rng, 4)}", "short"


# ----------------------------------------------------------------------------------- workplace


def corporate_system_prompt(company: str) -> str:
    """Return the system prompt of a company's internal assistant tool."""
    return (
        f"You are {company} Assist, the internal assistant for {company} employees. Follow "
        f"the {company} writing style guide, never include customer personal data in "
        f"answers, and keep answers brief unless asked for detail."
    )


def work_prompt(rng: Random, step_by_step: bool = False) -> Prompt:
    """Return an office worker's prompt (email, notes, SQL, proofreading, slides)."""
    kind: Kind
    form = rng.randrange(6)
    if form == 0:
        text, kind = (
            (
                f'Draft a reply to this customer email, under 150 words:\n\n"Hello, '
                f'{ticket(rng)} Please advise."'
            ),
            "chat",
        )
    elif form == 1:
        notes = "\n".join(
            f"- {rng.choice(v.FIRST_NAMES)}: {rng.choice(v.WORK_TOPICS)}"
            for _ in range(rng.randint(3, 7))
        )
        text, kind = f"Turn these meeting notes into action items with owners:\n{notes}", "short"
    elif form == 2:
        text, kind = (
            (
                f"Write a SQL query that returns {rng.choice(v.SQL_ASKS)}. Tables: "
                f"{rng.choice(v.SQL_TABLES)}."
            ),
            "code",
        )
    elif form == 3:
        text, kind = f"Proofread and fix any errors: {rng.choice(v.SENTENCES)}", "short"
    elif form == 4:
        text, kind = (
            (
                f"Create a {rng.randint(5, 10)}-slide outline about "
                f"{rng.choice(v.WORK_TOPICS)} for the leadership team."
            ),
            "long",
        )
    else:
        text, kind = (
            f"Summarise the key points of {rng.choice(v.WORK_TOPICS)} for a new hire.",
            "chat",
        )
    if step_by_step:
        return f"{text} {step_by_step_phrase(rng)}", "reasoning"
    return text, kind


# -------------------------------------------------------------------------------- coding agents


_EXTENSIONS = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "go": "go",
    "rust": "rs",
    "java": "java",
    "sql": "sql",
}


def coding_prompt(rng: Random, step: int, step_by_step: bool) -> Prompt:
    """Return the last user message of a coding agent's ``step``-th turn in a task.

    The first turn is the developer's instruction; later turns are mostly tool results
    fed back by the agent.
    """
    path = rng.choice(v.REPO_PATHS)
    if step == 0:
        form = rng.randrange(5)
        if form == 0:
            text = f"Add input validation to {path} and update the tests."
        elif form == 1:
            text = (
                f"The test `{rng.choice(v.TEST_NAMES)}` fails with `{rng.choice(v.FAILURES)}`."
                f" Find the root cause and fix it."
            )
        elif form == 2:
            text = (
                f"Refactor {path} to use {rng.choice(v.REFACTOR_PATTERNS)}. Keep the public "
                f"API unchanged."
            )
        elif form == 3:
            text = f"Write unit tests for the functions in {path}."
        else:
            text = f"Implement a function in {path} that {rng.choice(v.CODE_TASKS)}."
        if step_by_step:
            text += " Think step by step and make a plan before editing any files."
        return text, "plan"
    roll = rng.random()
    if roll < 0.45:
        language, code, _ = rng.choice(v.CODE_SNIPPETS)
        path = f"{rng.choice(('src', 'lib', 'app', 'internal'))}/{rng.choice(v.MODULE_NAMES)}"
        return (
            f'<tool_result name="read_file" path="{path}.{_EXTENSIONS[language]}">\n{code}\n'
            f"</tool_result>",
            "code",
        )
    if roll < 0.8:
        command = rng.choice(("pytest -x -q", "npm test", "go test ./...", "cargo test"))
        return (
            f'<tool_result name="shell">\n$ {command}\n'
            f"FAILED {rng.choice(v.TEST_NAMES)}\n{rng.choice(v.FAILURES)}\n"
            f"1 failed, {rng.randint(3, 400)} passed\n</tool_result>",
            "code",
        )
    return rng.choice(
        (
            "The edit was applied. Continue.",
            "Tests pass now. Anything else?",
            "Looks good, but also handle the empty case.",
            "Why did you change that file? Revert it and try again.",
        )
    ), "code"


# ------------------------------------------------------------------------ campaign templates


@dataclass(frozen=True, slots=True)
class Template:
    """A campaign's prompt template: a family, its wording with ``str.format`` slots, its kind."""

    family: str
    wording: str
    kind: Kind

    def fill(self, rng: Random) -> str:
        """Return the template with fresh slot values."""
        return self.wording.format(**_SLOTS[self.family](rng))


def _rubric_slots(rng: Random) -> dict[str, str]:
    question, answer = word_problem(rng)
    criteria = "\n".join(f"{i}. {c}" for i, c in enumerate(rng.sample(v.RUBRIC_CRITERIA, 4), 1))
    response = (
        f"I think the answer is {answer if rng.random() < 0.6 else 'unclear'} because "
        f"{rng.choice(('you divide the totals', 'the rates add up', 'of the formula'))}."
    )
    return {"criteria": criteria, "question": question, "response": response}


def _reconstruct_slots(rng: Random) -> dict[str, str]:
    question, answer = word_problem(rng)
    return {"question": question, "answer": answer}


def _sensitive_slots(rng: Random) -> dict[str, str]:
    topic = rng.choice(v.SENSITIVE_TOPICS)
    return {
        "topic": topic,
        "policy": rng.choice(v.POLICY_NAMES),
        "passage": f"Reports about {topic} differ sharply. "
        f"{' '.join(rng.sample(v.NEWS_DETAILS, 3))}",
    }


_SLOTS: dict[str, Callable[[Random], dict[str, str]]] = {
    "cot_elicitation": lambda r: {"problem": problem(r)},
    "reconstruct_reasoning": _reconstruct_slots,
    "rubric_grading": _rubric_slots,
    "agentic_planning": lambda r: {
        "tools": ", ".join(r.sample(v.AGENT_TOOLS, r.randint(4, 8))),
        "goal": r.choice(v.AGENT_GOALS),
    },
    "sensitive_rewrite": _sensitive_slots,
}

CAMPAIGN_FAMILIES: dict[str, tuple[tuple[str, ...], Kind]] = {
    "cot_elicitation": (
        (
            "Solve the following problem. Think step by step and write out your full reasoning "
            "before giving the final answer.\n\nProblem: {problem}",
            "You are an expert solver. For the problem below, produce a complete chain of thought: "
            "restate the problem, list what is known, reason through every intermediate step, "
            "check "
            "your work, then state the final answer on its own line.\n\n{problem}",
            "{problem}\n\nReason step by step. Show all of your internal reasoning in full detail, "
            "do not skip any step, and only then give the answer.",
            "请解决下面的问题。一步一步地思考，写出完整的推理过程，最后给出答案。\n\n问题：{problem}",
        ),
        "reasoning",
    ),
    "reconstruct_reasoning": (
        (
            "Here is a question and its final answer. Reconstruct, in detail, the complete "
            "chain of "
            "reasoning that leads from the question to this answer. Do not skip any step.\n\n"
            "Question: {question}\nAnswer: {answer}",
            "Given the answer below, write the detailed step-by-step thought process that an "
            "expert "
            "would have followed to reach it.\n\nQ: {question}\nFinal answer: {answer}",
            'Explain exactly how one arrives at "{answer}" for the following question, writing '
            "out every intermediate reasoning step as you would think it.\n\n{question}",
        ),
        "reasoning",
    ),
    "rubric_grading": (
        (
            "You are grading a student's answer. Rubric:\n{criteria}\n\nScore the answer from 1 to "
            "10 on each criterion, explain your reasoning for each score in detail, then give a "
            "final score.\n\nQuestion: {question}\nStudent answer: {response}",
            "Act as a strict examiner. Using the criteria below, evaluate the response, justify "
            "every point you award or deduct, and output a JSON object with the scores.\n\n"
            "Criteria:\n{criteria}\n\nTask: {question}\nResponse: {response}",
        ),
        "reasoning",
    ),
    "agentic_planning": (
        (
            "You are an autonomous agent with access to the tools: {tools}. Goal: {goal}. "
            "Produce a "
            "detailed step-by-step plan, stating which tool you would call at each step, with what "
            "arguments, and why.",
            "Goal: {goal}\nAvailable tools: {tools}\n\nThink through the task carefully and write "
            "the full sequence of tool calls you would make, with your reasoning before each call "
            "and how you would recover from failures.",
        ),
        "plan",
    ),
    "sensitive_rewrite": (
        (
            "Rewrite the following passage about {topic} so that it complies with {policy}. "
            "Explain "
            "each change you make and why.\n\nPassage: {passage}",
            "The text below discusses {topic}. Produce a version acceptable under {policy}, then "
            "list every sentence you changed with a detailed justification.\n\n{passage}",
        ),
        "long",
    ),
}
"""Extraction template families: wordings with slots, and the kind of answer they elicit."""


def campaign_templates(rng: Random, n: int) -> tuple[Template, ...]:
    """Return a campaign's ``n`` shared templates: families in turn, one wording each.

    Parameters
    ----------
    rng : Random
        The campaign's randomness (so all its accounts share the templates).
    n : int
        Number of templates.
    """
    families = list(CAMPAIGN_FAMILIES)
    rng.shuffle(families)
    chosen = []
    for i in range(n):
        family = families[i % len(families)]
        wordings, kind = CAMPAIGN_FAMILIES[family]
        chosen.append(Template(family, rng.choice(wordings), kind))
    return tuple(chosen)


_MIMICRY_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "cot_elicitation": (
        "hey, can you walk me through how you'd solve this? {problem} show all your work pls",
        "I'm studying for an exam and got stuck on this one: {problem} Could you solve it and "
        "explain every step of your thinking?",
        "{problem}\n\nCan you go through it slowly, one step at a time, and tell me why each step "
        "works?",
        "My teacher says the reasoning matters more than the answer. How would you reason "
        "through this? {problem}",
        "quick q - {problem} i want to understand the full thought process, not just the answer",
        "Could you help me with this? {problem} Please lay out your reasoning in detail before "
        "you give the final answer.",
        "Trying to check my homework. {problem} What's your full step-by-step solution?",
        "{problem} Explain it like a tutor would, every step, then the answer at the end.",
    ),
    "reconstruct_reasoning": (
        "The answer key says {answer} for this: {question} I don't see how they got there. Can "
        "you show the complete reasoning?",
        "how do you get {answer} from this?? {question} please explain each step in between",
        "{question} Apparently it's {answer}. Could you explain the whole thought process that "
        "gets you there?",
        "My friend got {answer} on this question but couldn't explain why: {question} Can you "
        "reconstruct the steps?",
        "Can you show me the working behind this answer ({answer})? {question}",
        "I know the result is {answer}, I just need to see the reasoning written out. {question}",
    ),
    "rubric_grading": (
        "Can you grade my friend's answer? Question: {question} Their answer: {response} Give a "
        "score out of 10 for each of these and explain why:\n{criteria}",
        "I'm a TA and want a second opinion. Here's the question: {question} Student wrote: "
        "{response} How would you mark it against this?\n{criteria}",
        "Rate this answer please, and justify each point. {question} / {response}\n{criteria}",
    ),
}


def foreign_cot_templates(rng: Random, n: int) -> tuple[Template, ...]:
    """Return ``n`` chain-of-thought templates in other languages than English.

    Campaigns send part of their extraction traffic in other languages, with the problem
    itself often left in English.
    """
    languages = rng.sample(sorted(_STEP_BY_STEP.keys() - {"en"}), n)
    return tuple(
        Template(
            "cot_elicitation", f"{{problem}}\n\n{rng.choice(_STEP_BY_STEP[lang])}", "reasoning"
        )
        for lang in languages
    )


def mimicry_prompt(rng: Random) -> Prompt:
    """Return a mimicry campaign prompt: a casual paraphrase of one of a few extraction templates.

    The paraphrases share their skeleton (family, slots, the request for full reasoning),
    which is what cross-account analysis can find.
    """
    family = rng.choice(tuple(_MIMICRY_PARAPHRASES))
    text = rng.choice(_MIMICRY_PARAPHRASES[family]).format(**_SLOTS[family](rng))
    return casual(rng, text), "reasoning"


def harvest_prefix(rng: Random) -> str:
    """Return a prompt prefix whose next-token distribution a logit-harvesting attack recovers."""
    roll = rng.random()
    if roll < 0.4:
        words = passage(rng, 3).split()
        return " ".join(words[: rng.randint(4, len(words))])
    if roll < 0.7:
        _, block, _ = _mc_block(rng)
        return f"{block}\nAnswer:"
    return rng.choice(v.SENTENCES).rsplit(" ", rng.randint(1, 6))[0]


def dataset_prompt(rng: Random) -> Prompt:
    """Return a whale's synthetic-dataset prompt: varied topics, always long or reasoned answers."""
    form = rng.randrange(4)
    if form == 0:
        return (
            f"Generate {rng.randint(5, 20)} diverse, challenging questions about "
            f"{rng.choice(v.CONCEPTS)}, each followed by a detailed step-by-step answer.",
            "long",
        )
    if form == 1:
        return (
            f"Write a textbook-quality explanation of {rng.choice(v.CONCEPTS)}, with worked "
            f"examples and common misconceptions.",
            "long",
        )
    if form == 2:
        return (
            f"Solve the following problem with complete, rigorous reasoning. Show every "
            f"intermediate step and verify your answer at the end.\n\n{problem(rng)}",
            "reasoning",
        )
    return (
        f"Write a Python function that {rng.choice(v.CODE_TASKS)}. First reason about the "
        f"algorithm in detail, then give the code, then test cases.",
        "code",
    )


# ------------------------------------------------------------------------ tokens and SimHash


def estimate_tokens(text: str) -> int:
    """Estimate the token count of ``text``: ~4 characters per token, ~1 per CJK character.

    Multi-byte characters cost more tokens than ASCII ones; counting the extra UTF-8
    bytes approximates that without a tokenizer.
    """
    n_chars = len(text)
    extra_bytes = len(text.encode("utf-8")) - n_chars
    return round(n_chars / 4 + extra_bytes * 0.4)


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)
def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def simhash64(text: str) -> str:
    """Return the 64-bit SimHash of ``text``'s word tokens as 16 lowercase hex digits.

    Tokens are ``re.findall(r"\\w+", text.lower())``; each is hashed with 64-bit BLAKE2b
    (little-endian); bit ``i`` of the result is set when more tokens have bit ``i`` set
    than not. Near-duplicate texts get SimHashes at a small Hamming distance.
    """
    tokens = _WORD.findall(text.lower())
    if not tokens:
        return "0" * 16
    hashes = np.array([_token_hash(t) for t in tokens], dtype="<u8")
    bits = np.unpackbits(hashes.view(np.uint8), bitorder="little").reshape(-1, 64)
    votes = 2 * bits.sum(axis=0, dtype=np.int64) - len(tokens)
    packed = np.packbits(votes > 0, bitorder="little").view("<u8")[0]
    return f"{int(packed):016x}"
