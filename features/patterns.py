"""Multilingual pattern sets behind the content signals of :mod:`features.content`.

Distillation campaigns harvest *how* a model reasons, not only what it answers:
their prompts ask for chain-of-thought ("think step by step"), use the model as
a grader ("score this answer 1-10 against the rubric"), or ask it to rebuild the
reasoning behind a given answer ("reconstruct the hidden steps that led to…").
Each family is a tuple of :class:`PatternSet` tiers, strongest first. A tier
is one regular expression (Rust ``regex`` syntax, as used by polars) built
from per-language alternatives; a prompt's score for a family is the weight of
the strongest tier it matches (see :func:`features.content.with_content`).

All expressions are written in lower case and applied, case-sensitively, to
lower-cased text: lower-casing once and searching case-sensitively is several
times faster than a case-insensitive search, whose many case variants defeat
the regex engine's literal prefilters.

Languages: English (``en``), German (``de``), Spanish (``es``), French
(``fr``), Chinese (``zh``) and Japanese (``ja``). Latin-script phrases are
anchored with ``\\b`` so that, for instance, "step function in numpy" does not
match "step by step"; Chinese and Japanese have no word boundaries, so their
phrases are specific multi-character sequences instead.

Topics are coarse capability labels. :data:`TOPICS` is in priority order: the
first topic whose expression matches the prompt wins (safety-sensitive first,
so that a dangerous request is never hidden behind another label), and a
prompt matching none is :data:`OTHER_TOPIC`.

The tests in ``tests/test_features_content.py`` hold, for every tier and every
language, examples that must and must not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Languages every pattern family covers.
LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "zh", "ja")

#: Label of a prompt that matches no topic.
OTHER_TOPIC = "other"


@dataclass(frozen=True)
class PatternSet:
    """Regular-expression alternatives, per language, that select one label.

    Attributes
    ----------
    label
        Tier name (``strong``, ``medium``, ``weak``) within a signal family, or
        topic label.
    weight
        Score in (0, 1] of a prompt whose strongest match is in this tier
        (unused for topics).
    by_language
        Alternatives per language code of :data:`LANGUAGES`.
    """

    label: str
    weight: float
    by_language: Mapping[str, tuple[str, ...]]

    @property
    def regex(self) -> str:
        """The set as one regular expression, for lower-cased text."""
        return union_regex((self,))


def union_regex(sets: Iterable[PatternSet]) -> str:
    """One alternation of every language's expressions of ``sets``, for lower-cased text."""
    alternatives = (
        pattern for s in sets for patterns in s.by_language.values() for pattern in patterns
    )
    return "(?:" + "|".join(alternatives) + ")"


#: Chain-of-thought / reasoning elicitation.
COT: tuple[PatternSet, ...] = (
    PatternSet(
        "strong",
        0.9,
        {
            "en": (
                r"\bstep[- ]by[- ]step\b",
                r"\bchain[- ]of[- ]thoughts?\b",
                r"\blet'?s think\b",
                r"\bthink (?:it |this )?through\b",
                r"\bshow (?:all )?(?:of )?(?:your|the) (?:work|reasoning|thinking|thought process"
                r"|intermediate steps)\b",
                r"\b(?:write|spell|lay) out your (?:reasoning|thinking|thought process)\b",
                r"<think>",
            ),
            "de": (
                r"\bschritt f(?:ü|ue)r schritt\b",
                r"\bdenke? (?:schrittweise|gründlich|sorgfältig) nach\b",
                r"\bzeige? (?:deinen|ihren|den) (?:lösungsweg|rechenweg|gedankengang)\b",
            ),
            "es": (
                r"\bpaso a paso\b",
                r"\bpiensa (?:con cuidado|detenidamente|cuidadosamente)\b",
                r"\bmuestra (?:tu|todo tu|el) razonamiento\b",
                r"\bcadena de pensamiento\b",
            ),
            "fr": (
                r"\bétape par étape\b",
                r"\bréfléchi(?:s|ssez) (?:bien|attentivement|soigneusement)\b",
                r"\bmontre[zs]? (?:ton|votre) raisonnement\b",
                r"\bchaîne de pensée\b",
            ),
            "zh": (
                r"一步一步",
                r"一步步",
                r"逐步(?:思考|推理|分析|解答|解决|推导)",
                r"思维链",
                r"展示(?:你的)?(?:推理|思考|解题)过程",
            ),
            "ja": (
                r"ステップバイステップ",
                r"段階的に(?:考え|説明|解)",
                r"一歩ずつ",
                r"順を追って",
                r"思考過程を(?:示|書)",
            ),
        },
    ),
    PatternSet(
        "medium",
        0.6,
        {
            "en": (
                r"\bexplain your (?:reasoning|thinking|thought process|answer)\b",
                r"\bthink (?:carefully|hard|deeply)\b",
                r"\bjustify (?:your|each) (?:answer|step)\b",
                r"\breasoning (?:process|steps|trace)\b",
                r"\bbefore (?:answering|you answer)\b",
            ),
            "de": (
                r"\berkläre? (?:deine|ihre) (?:begründung|überlegungen|denkweise)\b",
                r"\bbegründe (?:deine|ihre) antwort\b",
            ),
            "es": (
                r"\bexplica tu razonamiento\b",
                r"\bjustifica tu respuesta\b",
            ),
            "fr": (
                r"\bexplique[zs]? (?:ton|votre) raisonnement\b",
                r"\bjustifie[zs]? (?:ta|votre) réponse\b",
            ),
            "zh": (r"详细(?:推理|解释|说明)", r"解释你的(?:推理|思路)", r"给出推理"),
            "ja": (r"理由を説明", r"考え方を(?:説明|示)", r"詳しく説明"),
        },
    ),
    PatternSet(
        "weak",
        0.3,
        {
            "en": (r"\bfinal answer\b", r"\bintermediate steps\b", r"\\boxed\{"),
            "de": (r"\bendgültige antwort\b", r"\bzwischenschritte\b"),
            "es": (r"\brespuesta final\b", r"\bpasos intermedios\b"),
            "fr": (r"\bréponse finale\b", r"\bétapes intermédiaires\b"),
            "zh": (r"最终答案", r"中间步骤"),
            "ja": (r"最終的な答え", r"途中式"),
        },
    ),
)

#: The model used as a grader: rubric scoring, pairwise judging.
RUBRIC: tuple[PatternSet, ...] = (
    PatternSet(
        "strong",
        0.9,
        {
            "en": (
                r"\b(?:score|rate|grade|evaluate|assess|judge) (?:this|the following|the|each|these"
                r"|both) (?:answers?|responses?|replies|completions?|outputs?)\b",
                r"\bon a scale (?:of|from) (?:0|1|one|zero)\b",
                r"\b(?:scoring|grading|evaluation) (?:rubric|criteria)\b",
                r"\bwhich (?:response|answer|completion) is better\b",
                r"\bas an? (?:impartial |fair )?judge\b",
            ),
            "de": (
                r"\bbewerte[nt]? (?:sie )?(?:diese|die folgende|die|jede) (?:antwort|ausgabe)",
                r"\bauf einer skala von (?:0|1|eins|null)\b",
                r"\bbewertungs(?:kriterien|raster|schema)\b",
            ),
            "es": (
                r"\b(?:califica|evalúa|puntúa) (?:esta|la|cada|la siguiente) (?:respuesta|salida)",
                r"\ben una escala del? (?:0|1|uno|cero)\b",
                r"\bcriterios de evaluación\b",
            ),
            "fr": (
                r"\b(?:note[zs]?|évalue[zs]?) (?:cette|la|chaque) (?:réponse|sortie)\b",
                r"\bsur une échelle de (?:0|1|un|zéro)\b",
                r"\b(?:grille|critères) d'évaluation\b",
            ),
            "zh": (
                r"(?:给|对)(?:这个|以下|下面的)?(?:回答|答案|回复)(?:打分|评分)",
                r"评分标准",
                r"(?:1|一)(?:到|至|-)(?:10|十)分",
            ),
            "ja": (
                r"(?:回答|答え|応答)を(?:採点|評価)",
                r"(?:評価|採点)基準",
                r"(?:1|１)(?:から|〜|~)(?:10|１０)(?:点|の)",
            ),
        },
    ),
    PatternSet(
        "medium",
        0.6,
        {
            "en": (
                r"\brubric\b",
                r"\b(?:score|grade|rate) (?:it|this)\b",
                r"\bout of (?:10|ten)\b",
            ),
            "de": (r"\bvon 1 bis 10\b", r"\bpunktzahl\b"),
            "es": (r"\brúbrica\b", r"\bdel 1 al 10\b"),
            "fr": (r"\bde 1 à 10\b", r"\bnote sur (?:10|20)\b"),
            "zh": (r"打分", r"评分"),
            "ja": (r"採点", r"点数を"),
        },
    ),
)

#: Reconstruction of the reasoning behind a given answer.
RECONSTRUCT: tuple[PatternSet, ...] = (
    PatternSet(
        "strong",
        0.9,
        {
            "en": (
                r"\breconstruct (?:the |your |its )?(?:full )?(?:reasoning|thought process|chain of"
                r" thought|steps|derivation|rationale)\b",
                r"\b(?:hidden|intermediate|internal|missing|unstated) (?:reasoning )?steps"
                r" (?:that|which) (?:led|lead|leads) to\b",
                r"\bexplain the (?:hidden|internal|missing|unstated) (?:steps|reasoning)\b",
                r"\b(?:what|which) (?:reasoning|steps|thought process) (?:led|leads|would lead) to"
                r" (?:this|the|that) (?:answer|conclusion|output|result)\b",
                r"\breverse[- ]engineer (?:the|this|its|your)"
                r" (?:reasoning|thought process|logic)\b",
            ),
            "de": (
                r"\brekonstruier(?:e|en sie)? (?:die|den|deine|ihre) (?:begründung|gedankengang"
                r"|denkweg|lösungsweg|überlegungen)\b",
                r"\b(?:verborgenen|versteckten) (?:denk)?schritte\b",
            ),
            "es": (
                r"\breconstruye (?:el|tu) razonamiento\b",
                r"\bpasos ocultos\b",
                r"\bqué razonamiento llevó a\b",
            ),
            "fr": (
                r"\breconstitue[zs]? (?:le|ton|votre) raisonnement\b",
                r"\breconstrui(?:s|sez) (?:le|ton|votre) raisonnement\b",
                r"\bétapes cachées\b",
            ),
            "zh": (
                r"(?:还原|重建|重构|复原)(?:出)?(?:推理|思考|解题)(?:过程|步骤|链)",
                r"隐藏的(?:推理)?步骤",
                r"反推(?:出)?(?:推理|思路)",
            ),
            "ja": (
                r"(?:推論|思考|推理)(?:過程)?を(?:再構成|復元|再現)",
                r"隠れた(?:推論)?(?:ステップ|手順)",
            ),
        },
    ),
    PatternSet(
        "medium",
        0.6,
        {
            "en": (
                r"\bwork backwards? from the answer\b",
                r"\bhow (?:did|would) (?:the model|you|it) (?:arrive|get) at (?:this|that|the)"
                r" (?:answer|conclusion)\b",
                r"\b(?:rationale|reasoning) behind (?:this|the|that) (?:answer|output)\b",
            ),
            "de": (r"\bwie kam (?:das modell|man) auf (?:diese|die) antwort\b",),
            "es": (r"\bcómo se llegó a (?:esta|la) respuesta\b",),
            "fr": (r"\bcomment (?:le modèle )?(?:est arrivé|arriver) à cette réponse\b",),
            "zh": (r"如何得出(?:这个|该)?(?:答案|结论)",),
            "ja": (r"どのように(?:この)?(?:答え|結論)に(?:至|到)",),
        },
    ),
)

#: Coarse topics, in priority order (first match wins).
TOPICS: tuple[PatternSet, ...] = (
    PatternSet(
        "safety_sensitive",
        1.0,
        {
            "en": (
                r"\b(?:bioweapons?|nerve agents?|sarin|anthrax|explosives?|pipe bomb|malware"
                r"|ransomware|keylogger|zero[- ]day exploit|jailbreak"
                r"|weapons? of mass destruction)\b",
            ),
            "de": (r"\b(?:sprengstoff|biowaffen?|schadsoftware|nervenkampfstoff)\b",),
            "es": (r"\b(?:explosivos?|armas? biológicas?|programa malicioso)\b",),
            "fr": (r"\b(?:explosifs?|armes? biologiques?|logiciel malveillant)\b",),
            "zh": (r"炸药|生物武器|恶意软件|勒索软件|越狱",),
            "ja": (r"爆発物|生物兵器|マルウェア|ランサムウェア|脱獄",),
        },
    ),
    PatternSet(
        "code",
        1.0,
        {
            "en": (
                r"\b(?:python|javascript|typescript|golang|java|sql|bash|kotlin)\b",
                r"\bc\+\+",
                r"\b(?:source code|code snippet|unit tests?|stack trace|refactor|debug|compile"
                r"|regex|write a (?:function|script|program|class))\b",
                r"```",
            ),
            "de": (r"\b(?:quellcode|programmier\w*|funktion schreiben)\b",),
            "es": (r"\b(?:código|programación|depura\w*)\b",),
            "fr": (r"\b(?:code source|programmation|débogue\w*)\b",),
            "zh": (r"代码|编程|程序",),
            "ja": (r"コード|プログラム|実装",),
        },
    ),
    PatternSet(
        "math",
        1.0,
        {
            "en": (
                r"\b(?:solve|equations?|integral|derivative|theorem|prove|proof|polynomial|matrix"
                r"|probability|algebra|geometry|calculus|arithmetic|fractions?|prime numbers?"
                r"|calculate|compute)\b",
                r"\d\s*[+*^=]\s*\d",
            ),
            "de": (
                r"\b(?:gleichung|integral|ableitung|beweis|berechne|wahrscheinlichkeit|mathe\w*)\b",
            ),
            "es": (r"\b(?:ecuación|integral|derivada|demuestra|calcula|probabilidad)\b",),
            "fr": (r"\b(?:équation|intégrale|dérivée|démontre[zs]?|calcule[zs]?|probabilité)\b",),
            "zh": (r"方程|积分|导数|证明|计算|概率|几何|数学",),
            "ja": (r"方程式|積分|微分|証明|計算|確率|数学",),
        },
    ),
    PatternSet(
        "translation",
        1.0,
        {
            "en": (r"\btranslat(?:e|ion|ing)\b",),
            "de": (r"\b(?:übersetze|übersetzung|übersetzen)\b",),
            "es": (r"\b(?:traduce|traducción|traducir)\b",),
            "fr": (r"\b(?:tradui[st]|traduction|traduire)\b",),
            "zh": (r"翻译|译成",),
            "ja": (r"翻訳|訳して",),
        },
    ),
    PatternSet(
        "science",
        1.0,
        {
            "en": (
                r"\b(?:physics|chemistry|biology|molecules?|proteins?|quantum|thermodynamics"
                r"|photosynthesis|enzymes?|dna|atoms?|electrons?)\b",
            ),
            "de": (r"\b(?:physik|chemie|biologie|molekül\w*|quanten\w*)\b",),
            "es": (r"\b(?:física|química|biología|moléculas?|cuántica)\b",),
            "fr": (r"\b(?:physique|chimie|biologie|molécules?|quantique)\b",),
            "zh": (r"物理|化学|生物|分子|量子",),
            "ja": (r"物理|化学|生物|分子|量子",),
        },
    ),
    PatternSet(
        "reasoning",
        1.0,
        {
            "en": (r"\b(?:puzzle|riddle|logic|deduce|syllogism|brain ?teaser)\b",),
            "de": (r"\b(?:rätsel|logik\w*)\b",),
            "es": (r"\b(?:acertijo|lógica|adivinanza)\b",),
            "fr": (r"\b(?:énigme|logique|devinette)\b",),
            "zh": (r"谜题|逻辑|推理题",),
            "ja": (r"パズル|論理|なぞなぞ",),
        },
    ),
    PatternSet(
        "writing",
        1.0,
        {
            "en": (
                r"\b(?:essay|poem|story|article|blog post|cover letter|summari[sz]e|rewrite"
                r"|paraphrase|proofread)\b",
            ),
            "de": (r"\b(?:aufsatz|gedicht|geschichte|zusammenfassung|fasse \w+ zusammen)\b",),
            "es": (r"\b(?:ensayo|poema|cuento|resume|redacta)\b",),
            "fr": (r"\b(?:rédige[zs]?|dissertation|poème|histoire|résume[zs]?)\b",),
            "zh": (r"作文|诗歌|故事|总结|摘要|改写|写一篇",),
            "ja": (r"作文|詩を|物語|要約|書いて",),
        },
    ),
    PatternSet(
        "chat",
        1.0,
        {
            "en": (
                r"^\s*(?:hi|hello|hey|thanks|thank you|good (?:morning|evening)|how are you)\b",
            ),
            "de": (r"^\s*(?:hallo|danke|guten (?:morgen|tag|abend))\b",),
            "es": (r"^\s*(?:hola|gracias|buenos días|buenas)\b",),
            "fr": (r"^\s*(?:bonjour|salut|merci|bonsoir)\b",),
            "zh": (r"^\s*(?:你好|谢谢|早上好)",),
            "ja": (r"^\s*(?:こんにちは|ありがとう|おはよう)",),
        },
    ),
)
