"""Normalised words for matching and similarity.

Authors write the same idea many ways: ``multi-task``, ``multitask``, ``multi task``, ``MTL``.
Topic rules (:mod:`generator.topics`) and similarity (:mod:`generator.related`) both read
text through :func:`normalise`, so a phrase written once in ``topics.yaml`` matches every
spelling and two papers that say the same thing differently still look alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from .workers import Forked, can_fork

# Compound spellings folded to one form.  Each line: the output, then the spellings it
# replaces, as words (text is split at spaces, hyphens and punctuation first, so
# "multi task" also covers "multi-task" and "multi task").
_COMPOUNDS: list[tuple[str, tuple[str, ...]]] = [
    ("multitask", ("multi task", "multi tasks", "multitask", "multitasks")),
    ("multimodal", ("multi modal", "multi modality", "multi modalities", "multimodal", "multimodality", "multimodalities")),
    ("multilabel", ("multi label", "multilabel")),
    ("multilingual", ("multi lingual", "multilingual")),
    ("multiagent", ("multi agent", "multi agents", "multiagent", "multiagents")),
    ("crosslingual", ("cross lingual", "crosslingual")),
    ("crossmodal", ("cross modal", "crossmodal")),
    ("pretraining", ("pre train", "pre training", "pre trained", "pretrain", "pretraining", "pretrained")),
    ("finetuning", ("fine tuning", "fine tuned", "fine tune", "finetuning", "finetuned", "finetune")),
    ("selfsupervised", ("self supervised", "selfsupervised")),
    ("semisupervised", ("semi supervised", "semisupervised")),
    ("zeroshot", ("zero shot", "zeroshot")),
    ("fewshot", ("few shot", "fewshot")),
    ("incontext", ("in context",)),
    ("longtailed", ("long tail", "long tailed")),
    ("low rank adaptation", ("low rank adaptation", "low rank adapter", "low rank adapters")),
    ("dataset", ("data set", "data sets", "dataset", "datasets")),
    ("model merging", ("model merging", "merging models", "model merge")),
    ("reranking", ("re rank", "re ranking", "re ranker", "re rankers", "rerank", "reranking", "reranker", "rerankers")),
    ("pseudolabel", ("pseudo label", "pseudo labels", "pseudo labeled", "pseudo labeling", "pseudo labelling",
                     "pseudolabel", "pseudolabels", "pseudolabeled", "pseudolabeling", "pseudolabelling")),
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
    "SFT": "supervised fine-tuning",
    "ICL": "in-context learning",
    "CoT": "chain of thought",
    "NER": "named entity recognition",
    "IR": "information retrieval",
    "FL": "federated learning",
    "NAS": "neural architecture search",
    "XMC": "extreme multi-label classification",
    "MLTC": "multi-label text classification",
    "MLM": "masked language modeling",
    "MIM": "masked image modeling",
    "VLP": "vision-language pre-training",
    "LMM": "large multimodal model",
    "LMMs": "large multimodal model",
    "PLM": "pre-trained language model",
    "PLMs": "pre-trained language model",
    "SLU": "spoken language understanding",
    "RM": "reward model",
    "RMs": "reward model",
    "GCN": "graph convolutional network",
    "QA": "question answering",
    "OOD": "out-of-distribution",
}
_ACRONYM_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _ACRONYMS), key=len, reverse=True)) + r")\b")
_WORD = re.compile(r"[a-z0-9]+")
# Spellings by their first word, longest first, for one left-to-right pass over the words.
_FOLDS: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
for _out, _spellings in _COMPOUNDS:
    for _spelling in _spellings:
        _words = tuple(_spelling.split())
        _FOLDS.setdefault(_words[0], []).append((_words, _out.split()))
for _options in _FOLDS.values():
    _options.sort(key=lambda option: -len(option[0]))



def normalise(text: str) -> str:
    """Lowercase *text*, expand known acronyms, fold compound spellings and plurals,
    and keep only words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _ACRONYM_RE.sub(lambda m: " " + _ACRONYMS[m.group(1)] + " ", text)
    words = _WORD.findall(text.lower())
    out: list[str] = []
    i, n = 0, len(words)
    while i < n:
        options = _FOLDS.get(words[i])
        if options:
            for spelling, replacement in options:
                if tuple(words[i : i + len(spelling)]) == spelling:
                    out.extend(replacement)
                    i += len(spelling)
                    break
            else:
                out.append(words[i])
                i += 1
        else:
            out.append(words[i])
            i += 1
    return " ".join(_singular(w) for w in out)


@functools.lru_cache(maxsize=65536)
def _singular(word: str) -> str:
    # A light stemmer: enough to join "experts"/"expert", "tasks"/"task", not a linguistic one.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Stands for a clause boundary in normalised text: a word no spelling contains, so that no
# phrase is matched across a boundary ("... merging. Models ..." is not "merging model").
CLAUSE_BREAK = "zzclausebreakzz"
_URL = re.compile(r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:com|org|io|net)/\S*", re.IGNORECASE)
# Clause boundaries: punctuation that ends a clause, and dashes set off by spaces.
_CLAUSE = re.compile(r"[.;:!?()\[\]{},\"\u201c\u201d]|\s[-\u2013\u2014]+\s")


def raw_clauses(text: str) -> list[str]:
    """The clauses of *text*, URLs left out, as written."""
    if "http" in text or "www." in text or "/" in text:
        text = _URL.sub(" ", text)
    return _CLAUSE.split(text)


# clause_text() results by text; bounded, as `mkdocs serve` rebuilds in one process for hours.
_CLAUSE_TEXTS: dict[str, str] = {}
_CLAUSE_TEXTS_MAX = 1 << 16
# Below this many texts a second process does not pay for itself.
SPLIT_MIN_TEXTS = 4000


def clause_text(text: str) -> str:
    """:func:`normalise` of *text* without its URLs and with :data:`CLAUSE_BREAK` between
    clauses (one per boundary, so clause *i* follows the *i*-th break).

    Topic rules and similarity both read titles and abstracts this way; it is the costly
    step, so each text is normalised once per process for both."""
    hit = _CLAUSE_TEXTS.get(text)
    if hit is None:
        if len(_CLAUSE_TEXTS) >= _CLAUSE_TEXTS_MAX:
            _CLAUSE_TEXTS.clear()
        hit = _CLAUSE_TEXTS[text] = normalise(f" {CLAUSE_BREAK} ".join(raw_clauses(text)))
    return hit


def clause_texts(texts: list[str]) -> list[str]:
    """:func:`clause_text` of each of *texts*; a long list is shared with a forked process
    where that is safe, and every result is remembered here either way."""
    todo = list(dict.fromkeys(t for t in texts if t not in _CLAUSE_TEXTS))
    if len(todo) >= SPLIT_MIN_TEXTS and can_fork():
        rest = todo[len(todo) // 2 :]
        helper = Forked(lambda: [clause_text(t) for t in rest])
        for text in todo[: len(todo) // 2]:
            clause_text(text)
        for text, done in zip(rest, helper.result()):
            _CLAUSE_TEXTS[text] = done
    return [clause_text(t) for t in texts]


def words(text: str) -> list[str]:
    """The normalised words of *text*."""
    return normalise(text).split()
