"""Normalised words for matching and similarity.

Authors write the same idea many ways: ``multi-task``, ``multitask``, ``multi task``, ``MTL``.
Topic rules (:mod:`generator.topics`) and similarity (:mod:`generator.related`) both read
text through :func:`normalise`, so a phrase written once in ``topics.yaml`` matches every
spelling and two papers that say the same thing differently still look alike.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable


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


def alternation(strings: Iterable[str]) -> str:
    """A regular expression matching any of *strings*, written as a trie (``M(?:TL|oEs?)``).

    The regex engine tries the branches of an alternation one by one at every place in the
    text; as a trie it follows one character at a time, and a pattern that starts with the
    trie lets it skip straight to the places where one of the first characters stands.  At
    any place the longest of *strings* that fits is tried first."""
    root: dict[str, dict] = {}
    for string in strings:
        node = root
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}  # a string ends here

    def pattern(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) > 1 or ("" in node and len(branches[0]) > 1):
            body = "(?:" + "|".join(branches) + ")"
        else:
            body = branches[0]
        return body + "?" if "" in node else body

    return pattern(root)


# The leading word boundary is checked by _expand_acronym, not in the pattern: a pattern
# that starts with the trie lets the regex engine skip to candidate capitals.
_ACRONYM_RE = re.compile("(?:" + alternation(_ACRONYMS) + r")\b")
_WORD_CHAR = re.compile(r"\w")
_WORD = re.compile(r"[a-z0-9]+")
# Every spelling and its output; where two compounds list one spelling, the first wins.
_SPELLINGS: dict[str, str] = {}
for _out, _spellings in _COMPOUNDS:
    for _spelling in _spellings:
        _SPELLINGS.setdefault(_spelling, _out)
# _fold() first makes its text words between single spaces, with a space at each end too,
# which the patterns after this one read.
_SPACES = re.compile("  +")
# Compound spellings: a match starts after a space and ends before one, so only whole words
# match, and at each word the longest spelling that fits wins.
_FOLD_RE = re.compile(" (" + alternation(_SPELLINGS) + ")(?= )")
# Plurals made singular by a light stemmer, enough to join "experts"/"expert" and
# "tasks"/"task", not a linguistic one: a word of five or more letters ending in "ies" ends
# in "y" instead; then a word of four or more ending in "s", but not in "ss", "us" or "is",
# loses the "s".  Each pattern starts with the ending, which the regex engine finds fast, and
# looks at the letters before it afterwards.
_PLURAL_IES = re.compile(r"ies(?= )(?<=[a-z0-9]{2}ies)")
_PLURAL_S = re.compile(r"s(?= )(?<=[a-z0-9]{2}[a-hj-rtv-z0-9]s)")
# ASCII text reduced to its words in one translation: lowercase letters and digits stay,
# everything else becomes a space.  _CLAUSE_WORDS also turns clause punctuation (as in
# _CLAUSE) into "\x01", a placeholder for CLAUSE_BREAK.
_LETTERS_AND_DIGITS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ASCII_WORDS = {i: chr(i) if chr(i) in _LETTERS_AND_DIGITS else " " for i in range(128)}
_CLAUSE_WORDS = _ASCII_WORDS | {ord(c): "\x01" for c in '.;:!?()[]{},"'}


def normalise(text: str) -> str:
    """Lowercase *text*, expand known acronyms, fold compound spellings and plurals,
    and keep only words separated by single spaces."""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = _ACRONYM_RE.sub(_expand_acronym, text).lower()
    if text.isascii():
        spaced = text.translate(_ASCII_WORDS)
    else:
        spaced = " ".join(_WORD.findall(text))
    return _fold(spaced)


def _expand_acronym(m: re.Match[str]) -> str:
    start = m.start()
    if start and _WORD_CHAR.match(m.string, start - 1):  # inside a longer word
        return m.group()
    return " " + _ACRONYMS[m.group()] + " "


def _fold(spaced: str) -> str:
    # The words of *spaced* (lowercase letters and digits between runs of spaces) with
    # compound spellings and plurals folded, joined by single spaces.
    text = _SPACES.sub(" ", f" {spaced} ")
    text = _FOLD_RE.sub(_fold_spelling, text)
    text = _PLURAL_IES.sub("y", text)
    return _PLURAL_S.sub("", text)[1:-1]


def _fold_spelling(m: re.Match[str]) -> str:
    return " " + _SPELLINGS[m.group(1)]


# Stands for a clause boundary in normalised text: a word no spelling contains, so that no
# phrase is matched across a boundary ("... merging. Models ..." is not "merging model").
CLAUSE_BREAK = "zzclausebreakzz"
_URL = re.compile(r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:com|org|io|net)/\S*", re.IGNORECASE)
# Every match of _URL holds one of these, and lies inside one run of non-space characters,
# to its end: only such runs need the (slow) _URL.
_URL_HINT = re.compile(r"://|www\.|\.(?:com|org|io|net)/", re.IGNORECASE)
_SPACE = re.compile(r"\s")
# Clause boundaries: punctuation that ends a clause, and dashes set off by spaces.  Written
# as one character class first, which the regex engine can skip to, rather than as
# "[.;:...]|\s[-\u2013\u2014]+\s": a space only counts when dashes and a space follow it.
_CLAUSE = re.compile(r"[.;:!?()\[\]{},\"\u201c\u201d\s](?:(?<=\s)[-\u2013\u2014]+\s|(?<!\s))")
_SPACED_DASH = re.compile(r"\s[-\u2013\u2014]+\s")
# In ASCII text _SPACED_DASH needs a space before a hyphen; this finds one faster.
_SPACE_HYPHEN = re.compile(r"-(?<=\s-)")


def raw_clauses(text: str) -> list[str]:
    """The clauses of *text*, URLs left out, as written."""
    return _CLAUSE.split(_drop_urls(text))


def _drop_urls(text: str) -> str:
    # *text* with each URL made a space, where it holds "http", "www." or "/".  _URL.sub() is
    # applied only to the runs of non-space characters that may hold a URL: the same result,
    # as no match reaches beyond its run, at a fraction of the cost.
    if "http" not in text and "www." not in text and "/" not in text:
        return text
    parts: list[str] = []
    done = 0
    for hint in _URL_HINT.finditer(text):
        if hint.start() < done:
            continue  # in a run already seen
        start = hint.start()
        while start > done and not text[start - 1].isspace():
            start -= 1
        space = _SPACE.search(text, hint.end())
        end = space.start() if space else len(text)
        parts += (text[done:start], _URL.sub(" ", text[start:end]))
        done = end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _clause_text(text: str) -> str:
    # normalise() of the clauses of *text* joined by CLAUSE_BREAK.  ASCII text (nearly every
    # text) takes a shorter way to the same words: clause punctuation is marked in the one
    # translation that keeps only words (see _CLAUSE_WORDS), and spaced dashes become a
    # full stop first, as they end a clause too.
    if not text.isascii():
        return normalise(f" {CLAUSE_BREAK} ".join(raw_clauses(text)))
    text = _drop_urls(text)
    if _SPACE_HYPHEN.search(text):
        text = _SPACED_DASH.sub(".", text)
    text = _ACRONYM_RE.sub(_expand_acronym, text).lower()
    return _fold(text.translate(_CLAUSE_WORDS).replace("\x01", f" {CLAUSE_BREAK} "))


# clause_text() results by text; bounded, as `mkdocs serve` rebuilds in one process for hours.
_CLAUSE_TEXTS: dict[str, str] = {}
_CLAUSE_TEXTS_MAX = 1 << 16
def clause_text(text: str) -> str:
    """:func:`normalise` of *text* without its URLs and with :data:`CLAUSE_BREAK` between
    clauses (one per boundary, so clause *i* follows the *i*-th break).

    Topic rules and similarity both read titles and abstracts this way; it is the costly
    step, so each text is normalised once per process for both."""
    hit = _CLAUSE_TEXTS.get(text)
    if hit is None:
        if len(_CLAUSE_TEXTS) >= _CLAUSE_TEXTS_MAX:
            _CLAUSE_TEXTS.clear()
        hit = _CLAUSE_TEXTS[text] = _clause_text(text)
    return hit


def words(text: str) -> list[str]:
    """The normalised words of *text*."""
    return normalise(text).split()
