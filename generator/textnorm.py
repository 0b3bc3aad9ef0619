"""Normalised words for matching and similarity.

Authors write the same idea many ways: ``multi-task``, ``multitask``, ``multi task``, ``MTL``.
Topic rules (:mod:`generator.topics`) and similarity (:mod:`generator.related`) both read
text through :func:`normalise`, so a phrase written once in ``topics.yaml`` matches every
spelling and two papers that say the same thing differently still look alike.
"""

from __future__ import annotations

import re
import unicodedata

# Hyphenated/compound spellings folded to one token.  Keys are regexes on lowercased text.
_COMPOUNDS: list[tuple[str, str]] = [
    (r"\bmulti[\s\-]?tasks?\b", "multitask"),
    (r"\bmulti[\s\-]?modal(ity|ities)?\b", "multimodal"),
    (r"\bmulti[\s\-]?label\b", "multilabel"),
    (r"\bmulti[\s\-]?lingual\b", "multilingual"),
    (r"\bmulti[\s\-]?agents?\b", "multiagent"),
    (r"\bcross[\s\-]?lingual\b", "crosslingual"),
    (r"\bcross[\s\-]?modal\b", "crossmodal"),
    (r"\bpre[\s\-]?train(ing|ed)?\b", "pretraining"),
    (r"\bfine[\s\-]?tun(ing|ed|e)\b", "finetuning"),
    (r"\bself[\s\-]?supervised\b", "selfsupervised"),
    (r"\bsemi[\s\-]?supervised\b", "semisupervised"),
    (r"\bzero[\s\-]?shot\b", "zeroshot"),
    (r"\bfew[\s\-]?shot\b", "fewshot"),
    (r"\bin[\s\-]context\b", "incontext"),
    (r"\bvision[\s\-]language\b", "vision language"),
    (r"\blong[\s\-]tail(ed)?\b", "longtailed"),
    (r"\bmixture[\s\-]of[\s\-]experts?\b", "mixture of experts"),
    (r"\blow[\s\-]rank adapt(ation|ers?)\b", "low rank adaptation"),
    (r"\bretrieval[\s\-]augmented\b", "retrieval augmented"),
    (r"\bdata[\s\-]?sets?\b", "dataset"),
    (r"\bmodel merging\b|\bmerging models\b|\bmodel merge\b", "model merging"),
]

# Acronyms expanded to their words (matched case-sensitively on the original text).
_ACRONYMS: dict[str, str] = {
    "MTL": "multitask learning",
    "MoE": "mixture of experts",
    "MoEs": "mixture of experts",
    "LoRA": "low rank adaptation",
    "RAG": "retrieval augmented generation",
    "LLM": "large language model",
    "LLMs": "large language model",
    "MLLM": "multimodal large language model",
    "MLLMs": "multimodal large language model",
    "LVLM": "vision language large language model",
    "LVLMs": "vision language large language model",
    "VLM": "vision language model",
    "VLMs": "vision language model",
    "PEFT": "parameter efficient finetuning",
    "RL": "reinforcement learning",
    "RLHF": "reinforcement learning human feedback",
    "ASR": "speech recognition",
    "KD": "knowledge distillation",
    "MLC": "multilabel classification",
    "NLP": "natural language processing",
    "VQA": "visual question answering",
    "ViT": "vision transformer",
    "ViTs": "vision transformer",
    "GNN": "graph neural network",
    "GNNs": "graph neural network",
}
_ACRONYM_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _ACRONYMS), key=len, reverse=True)) + r")\b")
_COMPOUND_RES = [(re.compile(p), r) for p, r in _COMPOUNDS]
_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """Lowercase *text*, expand known acronyms, fold compound spellings and plurals,
    and keep only words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _ACRONYM_RE.sub(lambda m: " " + _ACRONYMS[m.group(1)] + " ", text)
    text = text.lower()
    for pattern, repl in _COMPOUND_RES:
        text = pattern.sub(repl, text)
    words = _WORD.findall(text)
    return " ".join(_singular(w) for w in words)


def _singular(word: str) -> str:
    # A light stemmer: enough to join "experts"/"expert", "tasks"/"task", not a linguistic one.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The normalised words of *text*."""
    return normalise(text).split()
