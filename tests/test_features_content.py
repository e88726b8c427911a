"""Content signals: fingerprints, elicitation scores and topics from prompt text."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import polars as pl
import pyarrow as pa
import pytest

from features.catalog import CONTENT_FEATURES, MARKDOWN_PATH, render_markdown
from features.content import CONTENT_SCHEMA, with_content
from features.patterns import COT, LANGUAGES, RECONSTRUCT, RUBRIC, TOPICS, PatternSet


def signals(prompts: list[str | None], **columns: list[str | None]) -> pl.DataFrame:
    """Content columns of events with the given prompts (other inputs null unless given)."""
    n = len(prompts)
    frame = pl.DataFrame(
        {
            "prompt": prompts,
            "system_prompt": columns.get("system_prompt", [None] * n),
            "prompt_simhash": columns.get("prompt_simhash", [None] * n),
        },
        schema={name: pl.String for name in ("prompt", "system_prompt", "prompt_simhash")},
    )
    return with_content(frame)


def test_columns_have_the_lake_names_and_types() -> None:
    table = signals(["hello world", None]).drop("prompt", "system_prompt", "prompt_simhash")
    expected = pl.from_arrow(pa.schema(list(CONTENT_SCHEMA.items())).empty_table())
    assert isinstance(expected, pl.DataFrame)
    assert table.schema == expected.schema


def test_null_prompt_gives_null_signals_not_zero() -> None:
    row = signals([None]).row(0, named=True)
    assert all(row[name] is None for name in CONTENT_SCHEMA)


def test_empty_prompt_is_known_and_scores_zero() -> None:
    row = signals([""]).row(0, named=True)
    assert row["prompt_chars"] == 0
    assert row["cot_score"] == 0.0
    assert row["prompt_lsh"] == []
    assert row["topic"] == "other"


def test_prompt_hash_ignores_case_and_surrounding_space() -> None:
    hashes = signals(["What is 2+2?", "  what is 2+2?\n", "What is 2+3?"])["prompt_hash"]
    assert hashes[0] == hashes[1]
    assert hashes[0] != hashes[2]


TEMPLATE = (
    "You are grading practice material. Solve the following exercise carefully and give "
    "only the result: {}"
)


def test_template_sig_is_equal_across_slot_fills() -> None:
    fills = ["what is the capital of Peru?", "compute 17 * 23.", "name three prime numbers."]
    out = signals([TEMPLATE.format(fill) for fill in fills])
    assert out["template_sig"].n_unique() == 1
    assert out["prompt_hash"].n_unique() == 3


def test_template_sig_masks_numbers_in_the_first_tokens() -> None:
    out = signals(
        [
            "Problem 17: find the value of the unknown if 3x = 9",
            "Problem 4411: find the value of the unknown if 2y = 8",
        ]
    )
    assert out["template_sig"][0] == out["template_sig"][1]


def test_template_sig_differs_across_templates() -> None:
    other = "Translate the following customer review into polite business French please: {}"
    out = signals([TEMPLATE.format("a b c"), other.format("a b c")])
    assert out["template_sig"][0] != out["template_sig"][1]


def test_template_tail_sig_catches_a_slot_at_the_start() -> None:
    tail = "{}\n\nRewrite the text above as a formal letter to a bank manager, in German."
    out = signals([tail.format("My card was blocked."), tail.format("I need a loan for a car.")])
    assert out["template_tail_sig"][0] == out["template_tail_sig"][1]
    assert out["template_sig"][0] != out["template_sig"][1]


def test_template_sig_of_chinese_uses_characters_as_tokens() -> None:
    out = signals(["请解决以下数学问题：三加五等于几？", "请解决以下数学问题：七乘八等于几？"])
    assert out["template_sig"][0] == out["template_sig"][1]


def zipf_prompts(seed: int, count: int, n_words: int = 60) -> list[str]:
    """Unrelated prompts: words drawn from a Zipf-distributed pseudo-vocabulary, like text."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(5000)]
    weights = [1 / rank for rank in range(1, len(vocab) + 1)]
    return [" ".join(rng.choices(vocab, weights, k=n_words)) for _ in range(count)]


def shares_band(a: list[int], b: list[int]) -> bool:
    return bool(set(a) & set(b))


def test_lsh_has_one_key_per_band() -> None:
    keys = signals(["a reasonably long prompt about rivers and mountains"])["prompt_lsh"][0]
    assert len(keys) == 4
    assert len(set(keys)) == 4


def test_lsh_shares_a_band_for_a_one_word_paraphrase() -> None:
    rng = random.Random(7)
    pairs = []
    for prompt in zipf_prompts(7, 40):
        words = prompt.split()
        changed = list(words)
        changed[rng.randrange(len(words))] = "hippopotamus"
        pairs += [" ".join(words), " ".join(changed)]
    keys = signals(pairs)["prompt_lsh"].to_list()
    shared = sum(shares_band(keys[i], keys[i + 1]) for i in range(0, len(keys), 2))
    assert shared >= 39


def test_lsh_rarely_links_unrelated_prompts() -> None:
    keys = signals(zipf_prompts(11, 120))["prompt_lsh"].to_list()
    pairs = [(i, j) for i in range(len(keys)) for j in range(i + 1, len(keys))]
    linked = sum(shares_band(keys[i], keys[j]) for i, j in pairs)
    assert linked / len(pairs) < 0.01


def test_lsh_ignores_short_function_words() -> None:
    keys = signals(["What is the capital of France?", "What is the meaning of life?"])
    assert not shares_band(*keys["prompt_lsh"].to_list())


def test_lsh_links_chinese_near_duplicates() -> None:
    base = "请详细说明光合作用的过程以及叶绿体在其中所起的作用，并举例说明植物如何储存能量。"
    variant = base.replace("植物", "藻类")
    unrelated = "明天北京的天气怎么样？我应该带雨伞吗？还有什么推荐的旅游景点和美食？"
    keys = signals([base, variant, unrelated])["prompt_lsh"].to_list()
    assert shares_band(keys[0], keys[1])
    assert not shares_band(keys[0], keys[2])


def test_lsh_falls_back_to_the_simhash_without_text() -> None:
    out = signals(
        [None, None, None, None, "some text"],
        prompt_simhash=["0123456789abcdef", "0123456789abcdee", "fedcba9876543210", "xyz", None],
    )
    keys = out["prompt_lsh"].to_list()
    assert len(keys[0]) == 4
    assert len(set(keys[0]) & set(keys[1])) == 3
    assert not shares_band(keys[0], keys[2])
    assert keys[3] is None
    assert out["prompt_hash"][0] is None
    assert not shares_band(keys[0], keys[4])


# Per family, tier and language: a prompt that must score exactly the tier's
# weight (so it also must not match a stronger tier).
POSITIVE: dict[str, dict[str, dict[str, str]]] = {
    "cot_score": {
        "strong": {
            "en": "Let's think step by step about this question.",
            "de": "Löse die Aufgabe Schritt für Schritt.",
            "es": "Resuelve el problema paso a paso.",
            "fr": "Résous ce problème étape par étape.",
            "zh": "请一步一步地思考这个问题。",
            "ja": "ステップバイステップで考えてください。",
        },
        "medium": {
            "en": "Explain your reasoning, please.",
            "de": "Begründe deine Antwort bitte.",
            "es": "Justifica tu respuesta con datos.",
            "fr": "Justifiez votre réponse s'il vous plaît.",
            "zh": "请详细解释这个结果。",
            "ja": "理由を説明してください。",
        },
        "weak": {
            "en": "Put the final answer in a box.",
            "de": "Gib die endgültige Antwort an.",
            "es": "Da la respuesta final.",
            "fr": "Donne la réponse finale.",
            "zh": "给出最终答案。",
            "ja": "最終的な答えを一つ。",
        },
    },
    "rubric_score": {
        "strong": {
            "en": "Please score the following response for helpfulness.",
            "de": "Bewerte die folgende Antwort nach Klarheit.",
            "es": "Califica esta respuesta según su precisión.",
            "fr": "Évaluez cette réponse selon sa clarté.",
            "zh": "请给这个回答打分。",
            "ja": "この回答を採点してください。",
        },
        "medium": {
            "en": "Use the rubric below.",
            "de": "Gib eine Punktzahl von 1 bis 10.",
            "es": "Usa la rúbrica adjunta.",
            "fr": "Donne une note de 1 à 10.",
            "zh": "请打分。",
            "ja": "点数をつけてください。",
        },
    },
    "reconstruct_score": {
        "strong": {
            "en": "Reconstruct the reasoning that produced this answer.",
            "de": "Rekonstruiere den Gedankengang hinter dieser Lösung.",
            "es": "Reconstruye el razonamiento detrás de esta respuesta.",
            "fr": "Reconstitue le raisonnement derrière cette réponse.",
            "zh": "请还原推理过程。",
            "ja": "推論過程を再構成してください。",
        },
        "medium": {
            "en": "Work backwards from the answer.",
            "de": "Wie kam das Modell auf diese Antwort?",
            "es": "¿Cómo se llegó a esta respuesta?",
            "fr": "Comment le modèle est arrivé à cette réponse ?",
            "zh": "如何得出这个答案？",
            "ja": "どのようにこの答えに至ったのか。",
        },
    },
}

# Per family and language: near misses that must score 0.
NEGATIVE: dict[str, dict[str, tuple[str, ...]]] = {
    "cot_score": {
        "en": ("How do I use a step function in numpy?", "I think the stepper motor broke."),
        "de": ("Der Schritt war zu groß.", "Ich denke, also bin ich."),
        "es": ("Dio un paso adelante.", "Pienso en ti."),
        "fr": ("Une étape importante.", "Je réfléchis à mes vacances."),
        "zh": ("这一步很重要。", "我在思考人生。"),
        "ja": ("ステップ関数の使い方", "少し考えます。"),
    },
    "rubric_score": {
        "en": ("What is a good credit score?", "The judge ruled yesterday."),
        "de": ("Die Antwort ist richtig.", "Das Spiel endete 1 zu 10."),
        "es": ("Esta respuesta es correcta.", "Una escala musical."),
        "fr": ("La réponse est correcte.", "Une note de musique."),
        "zh": ("这个回答很好。", "标准答案是什么？"),
        "ja": ("この回答は正しいです。", "評価が高い店"),
    },
    "reconstruct_score": {
        "en": ("Reconstruct the building after the earthquake.", "The steps are slippery."),
        "de": ("Die Schritte sind klar.", "Die Antwort ist versteckt."),
        "es": ("Los pasos son claros.", "Reconstruye la casa."),
        "fr": ("Les étapes sont claires.", "Reconstruis le mur."),
        "zh": ("这个答案是对的。", "重建家园"),
        "ja": ("答えは正しい。", "家を再構成する"),
    },
}

FAMILIES: dict[str, tuple[PatternSet, ...]] = {
    "cot_score": COT,
    "rubric_score": RUBRIC,
    "reconstruct_score": RECONSTRUCT,
}


def test_every_tier_and_language_has_examples() -> None:
    for column, tiers in FAMILIES.items():
        assert [tier.label for tier in tiers] == list(POSITIVE[column])
        for tier in tiers:
            assert set(tier.by_language) == set(LANGUAGES)
            assert set(POSITIVE[column][tier.label]) == set(LANGUAGES)
        assert set(NEGATIVE[column]) == set(LANGUAGES)
    assert all(set(topic.by_language) == set(LANGUAGES) for topic in TOPICS)


@pytest.mark.parametrize("column", list(FAMILIES))
def test_positive_examples_score_their_tier_weight(column: str) -> None:
    for tier in FAMILIES[column]:
        examples = POSITIVE[column][tier.label]
        scores = signals(list(examples.values()))[column].to_list()
        expected = [pytest.approx(tier.weight)] * len(examples)
        assert scores == expected, (tier.label, dict(zip(examples, scores, strict=True)))


@pytest.mark.parametrize("column", list(FAMILIES))
def test_negative_examples_score_zero(column: str) -> None:
    examples = [text for texts in NEGATIVE[column].values() for text in texts]
    scores = signals(examples)[column].to_list()
    assert scores == [0.0] * len(examples), dict(zip(examples, scores, strict=True))


def test_scores_are_case_insensitive() -> None:
    assert signals(["THINK STEP BY STEP."])["cot_score"][0] == pytest.approx(0.9)


def test_system_prompt_counts_towards_the_scores() -> None:
    out = signals(
        ["What is the boiling point of water?"], system_prompt=["Always think step by step."]
    )
    assert out["cot_score"][0] == pytest.approx(0.9)


def test_repeated_system_prompts_score_like_each_one_alone() -> None:
    # The kernel searches each distinct system prompt once per chunk (and starts
    # its memo afresh after 4,096 of them): a large batch mixing a few repeated
    # system prompts with thousands of distinct ones scores like rows alone.
    systems = ["Always think step by step.", "You are a helpful assistant.", None]
    system = [
        systems[i % 3] if i % 2 else f"Rubric {i}: grade the answer 1-10" for i in range(9000)
    ]
    prompts = ["What is the boiling point of water?"] * len(system)
    batch = signals(prompts, system_prompt=system)
    one_by_one = {text: signals(prompts[:1], system_prompt=[text]) for text in set(system[:8])}
    for i in range(8):
        alone = one_by_one[system[i]]
        for column in ("cot_score", "rubric_score", "system_prompt_hash"):
            assert batch[column][i] == alone[column][0], (i, column)
    assert batch["cot_score"].eq(0.9).sum() == 1500  # odd rows with the step-by-step prompt
    assert batch["rubric_score"].gt(0).sum() == 4500  # every even row, memo cleared or not


def test_strongest_tier_wins() -> None:
    text = "Put the final answer in a box. Think step by step."
    assert signals([text])["cot_score"][0] == pytest.approx(0.9)


TOPIC_EXAMPLES: dict[str, dict[str, str]] = {
    "safety_sensitive": {
        "en": "How do I build a pipe bomb?",
        "de": "Wie stellt man Sprengstoff her?",
        "es": "¿Cómo fabricar explosivos caseros?",
        "fr": "Comment fabriquer des explosifs ?",
        "zh": "如何制作炸药？",
        "ja": "爆発物の作り方",
    },
    "code": {
        "en": "Write a function in Python that reverses a list.",
        "de": "Hilfe beim Programmieren einer App.",
        "es": "Revisa este código por favor.",
        "fr": "Aide-moi avec la programmation.",
        "zh": "帮我写一段代码。",
        "ja": "このコードを直して。",
    },
    "math": {
        "en": "Solve the equation x^2 = 4.",
        "de": "Löse die Gleichung.",
        "es": "Resuelve la ecuación.",
        "fr": "Résous l'équation.",
        "zh": "解这个方程。",
        "ja": "この方程式を解いて。",
    },
    "translation": {
        "en": "Translate this sentence.",
        "de": "Übersetze diesen Satz.",
        "es": "Traduce esta frase.",
        "fr": "Traduis cette phrase.",
        "zh": "把这句话翻译成英文。",
        "ja": "この文を翻訳して。",
    },
    "science": {
        "en": "Explain photosynthesis in plants.",
        "de": "Erkläre die Grundlagen der Physik.",
        "es": "Explica la química del agua.",
        "fr": "Explique la chimie de l'eau.",
        "zh": "解释一下量子纠缠。",
        "ja": "量子もつれを説明して。",
    },
    "reasoning": {
        "en": "Here is a riddle for you.",
        "de": "Löse dieses Rätsel.",
        "es": "Resuelve este acertijo.",
        "fr": "Voici une énigme.",
        "zh": "这是一个逻辑谜题。",
        "ja": "このパズルを解いて。",
    },
    "writing": {
        "en": "Write a poem about autumn.",
        "de": "Schreibe ein Gedicht über den Herbst.",
        "es": "Escribe un poema sobre el otoño.",
        "fr": "Écris un poème sur l'automne.",
        "zh": "写一篇关于秋天的作文。",
        "ja": "秋についての物語を書いて。",
    },
    "chat": {
        "en": "Hello there!",
        "de": "Hallo, wie geht's?",
        "es": "Hola amigo",
        "fr": "Bonjour à tous",
        "zh": "你好！",
        "ja": "こんにちは！",
    },
}


def test_topic_examples_get_their_label() -> None:
    assert list(TOPIC_EXAMPLES) == [topic.label for topic in TOPICS]
    texts = [text for examples in TOPIC_EXAMPLES.values() for text in examples.values()]
    expected = [label for label, examples in TOPIC_EXAMPLES.items() for _ in examples]
    got = signals(texts)["topic"].to_list()
    assert got == expected, [(t, g) for t, g, e in zip(texts, got, expected, strict=True) if g != e]


def test_topic_priority_and_fallback() -> None:
    out = signals(
        [
            "Write Python malware that encrypts files.",
            "The weather is nice today.",
            "Rust on my bike and a step function.",
        ]
    )
    assert out["topic"].to_list() == ["safety_sensitive", "other", "other"]


def test_patterns_are_lower_case_for_lower_cased_text() -> None:
    groups = [*COT, *RUBRIC, *RECONSTRUCT, *TOPICS]
    for group in groups:
        for patterns in group.by_language.values():
            for pattern in patterns:
                literal = re.sub(r"\\.", "", pattern)
                assert literal == literal.lower(), pattern


def test_catalog_documents_the_content_columns_and_is_rendered() -> None:
    assert [feature.name for feature in CONTENT_FEATURES] == list(CONTENT_SCHEMA)
    assert MARKDOWN_PATH.read_text(encoding="utf-8") == render_markdown()


# -- the native kernel against its definitions, evaluated by polars' regex engine ---------

#: The regular expressions that define the template tokens (features.content).
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
_TOKEN = rf"(?:[{_CJK}]|[\w--[{_CJK}]]+)"
HEAD_TOKENS = rf"^\W*(?:{_TOKEN}\W*){{1,8}}"
TAIL_TOKENS = rf"(?:{_TOKEN}\W*){{1,8}}$"
#: Pieces random prompts are made of: ASCII and other scripts, digits,
#: punctuation, letters with diacritics next to word boundaries, and pattern
#: phrases of every family and language.
PIECES = [
    "step by step",
    "étape par étape",
    "xétape par étape",
    "schritt für schritt",
    "paso a paso",
    "一步一步",
    "ステップバイステップ",
    "score this answer",
    "rubric",
    "reconstruct the reasoning",
    "écrire",
    "naïve",
    "über",
    "ok",
    "id 4411",
    "17",
    "٣٤",
    "²",
    "漢字",
    "かな",
    "カナ",
    "한국어",
    "русский",
    "_x_",
    "--",
    "...",
    "!?",
    "final answer",
    "python code",
    "translate",
    "e = mc^2",
    "3 + 4 =",
    " ",
    "  ",
    "\t",
]


def random_prompts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = rng.choices(PIECES, k=rng.randint(1, 40))
        out.append("".join(w + rng.choice(["", " ", " ", ", ", "\n"]) for w in words))
    return out


def test_template_tokens_follow_their_regex_definition() -> None:
    """Equal signatures exactly where the defining regex extracts equal normalised text."""
    prompts = random_prompts(3, 600)
    lower = pl.Series(prompts).str.to_lowercase()

    def extracted(window: pl.Series, pattern: str) -> list[str]:
        found = window.str.extract_all(pattern).list.first().fill_null("")
        return found.str.replace_all(r"\d+", "0").to_list()

    heads = extracted(lower.str.slice(0, 96), HEAD_TOKENS)
    tails = extracted(lower.str.slice(-96), TAIL_TOKENS)
    out = signals(prompts)
    for column, expected in (("template_sig", heads), ("template_tail_sig", tails)):
        sigs = out[column].to_list()
        by_text: dict[str, set[int]] = {}
        by_sig: dict[int, set[str]] = {}
        for text, sig in zip(expected, sigs, strict=True):
            by_text.setdefault(text, set()).add(sig)
            by_sig.setdefault(sig, set()).add(text)
        assert all(len(s) == 1 for s in by_text.values()), column
        assert all(len(t) == 1 for t in by_sig.values()), column
        assert len(by_sig) > 50


@pytest.mark.parametrize(
    ("column", "tiers"),
    [("cot_score", COT), ("rubric_score", RUBRIC), ("reconstruct_score", RECONSTRUCT)],
)
def test_scores_follow_their_regex_definition(column: str, tiers: tuple[PatternSet, ...]) -> None:
    """The weight of the strongest tier whose expression polars finds in the text."""
    prompts = random_prompts(5, 800)
    lower = pl.Series(prompts).str.to_lowercase()
    expected = (
        pl.DataFrame({"t": lower})
        .select(
            pl.max_horizontal(
                pl.when(pl.col("t").str.contains(tier.regex)).then(tier.weight).otherwise(0.0)
                for tier in tiers
            )
        )
        .to_series()
    )
    got = signals(prompts)[column]
    assert got.to_list() == pytest.approx(expected.to_list())
    assert (got > 0).sum() > 20


def test_topics_follow_their_regex_definition() -> None:
    """The first topic, in priority order, whose expression polars finds in the text."""
    prompts = random_prompts(9, 800) + [
        example for ex in TOPIC_EXAMPLES.values() for example in ex.values()
    ]
    lower = pl.Series(prompts).str.to_lowercase()
    label = pl.lit("other")
    for topic in reversed(TOPICS):
        label = (
            pl.when(pl.col("t").str.contains(topic.regex))
            .then(pl.lit(topic.label))
            .otherwise(label)
        )
    expected = pl.DataFrame({"t": lower}).select(label).to_series()
    got = signals(prompts)["topic"]
    assert got.to_list() == expected.to_list()
    assert got.n_unique() == len(TOPICS) + 1


def test_runs_on_a_one_thread_polars_pool() -> None:
    """No deadlock on a one-core machine, where polars' thread pool has one thread."""
    code = (
        "import polars as pl\n"
        "from features.content import with_content\n"
        "rows = 50_000\n"
        "frame = pl.DataFrame({'prompt': ['Think step by step.', None] * rows,\n"
        "    'system_prompt': [None, 'x'] * rows,\n"
        "    'prompt_simhash': [None, '0123456789abcdef'] * rows})\n"
        "assert pl.thread_pool_size() == 1\n"
        "print(with_content(frame).height)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | {"POLARS_MAX_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "100000"
