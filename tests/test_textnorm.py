"""Normalised words: acronyms, compound spellings, plurals, clauses and URLs."""

from __future__ import annotations

import random
import re

import pytest

from generator import textnorm
from generator.textnorm import CLAUSE_BREAK, alternation, clause_text, normalise, raw_clauses


@pytest.mark.parametrize(
    "text, words",
    [
        ("Multi-Task Learning with MTL and MoEs", "multitask learning with multitask learning and mixture of expert"),
        # An acronym counts only as a word of its own.
        ("xMTL, MTLx, MTL_ and (MTL).", "xmtl mtlx mtl and multitask learning"),
        ("The LLMs' pre-trained, fine tuned multi task models", "the large language model pretraining finetuning multitask model"),
        # The longest spelling wins.
        ("low rank adapters vs low rank adaptation vs low rank", "low rank adaptation vs low rank adaptation vs low rank"),
        ("Studies of ties, bus, class, analysis, series and 1990s GPUs", "study of tie bus class analysis sery and 1990 gpus"),
        ("data sets and datasets; re-rankers and pseudo labelling", "dataset and dataset reranking and pseudolabel"),
        ("in context: In-Context Learning (ICL)", "incontext incontext learning incontext learning"),
        # NFKC first: full-width letters and ligatures are the letters they stand for.
        ("ＭＴＬ and ﬁne-tuning of Café models", "multitask learning and finetuning of caf model"),
        ("", ""),
        ("  --  ", ""),
    ],
)
def test_normalise(text, words):
    assert normalise(text) == words


@pytest.mark.parametrize(
    "text, words, clauses",
    [
        (
            "Model merging. Models are merged - then tuned — twice",
            "model merging zzclausebreakzz model are merged zzclausebreakzz then tuned zzclausebreakzz twice",
            ["Model merging", " Models are merged", "then tuned", "twice"],
        ),
        (
            "See https://github.com/x/y, www.example.org and code.example.com/z (MTL).",
            "see and zzclausebreakzz multitask learning zzclausebreakzz zzclausebreakzz",
            ["See     and   ", "MTL", "", ""],
        ),
        # Only text with "http", "www." or "/" is searched for URLs.
        (
            "Multi-task learning; see WWW.Example.COM here",
            "multitask learning zzclausebreakzz see www zzclausebreakzz example zzclausebreakzz com here",
            ["Multi-task learning", " see WWW", "Example", "COM here"],
        ),
        ("Uses and/or ~https://a.b/c).", "use and or", ["Uses and/or ~ "]),
    ],
)
def test_clauses(text, words, clauses):
    assert raw_clauses(text) == clauses
    assert clause_text(text) == words


def _tricky_texts() -> list[str]:
    pieces = [
        "multi", "task", "-", " - ", " -- ", " \u2014 ", "\t-\t", "MTL", "xMTL", "MoEs", "LLMs", "studies", "ties", "bus",
        "1990s", "data sets", "low rank adapters", "in context", "http://a.b/c", "https://x.io/(y)", "www.e.org",
        "WWW.E.COM/x", "a.b.net/", "and/or", "e.g.", "(", ")", "“", "”", ",", ";", "é", "ＭＴＬ", "ﬁ", "\u00a0",
        "\u2028", "_", "zzclausebreakzz", "ıo/", "ſ",
    ]
    rng = random.Random(0)
    texts = []
    for _ in range(3000):
        parts = rng.choices(pieces, k=rng.randint(0, 14))
        texts.append(rng.choice(["", " "]).join(parts))
    return texts


def test_clause_text_is_normalise_of_the_clauses():
    # ASCII text takes a shorter way than normalise(); the words must come out the same.
    for text in _tricky_texts():
        textnorm._CLAUSE_TEXTS.pop(text, None)
        assert clause_text(text) == normalise(f" {CLAUSE_BREAK} ".join(raw_clauses(text))), repr(text)


def test_urls_are_dropped_as_by_the_url_pattern():
    for text in _tricky_texts():
        expected = textnorm._URL.sub(" ", text) if ("http" in text or "www." in text or "/" in text) else text
        assert textnorm._drop_urls(text) == expected, repr(text)


def test_alternation_matches_exactly_its_strings_longest_first():
    strings = ["a", "ab", "abc", "b", "a.c", "x y", ""]
    pattern = re.compile(alternation(strings))
    for text in ["a", "ab", "abc", "abd", "b", "a.c", "abx", "x y", "x", "", "c"]:
        expected = max((s for s in strings if text.startswith(s)), key=len)
        assert pattern.match(text).group() == expected
    assert re.fullmatch(alternation(["a", "ab"]), "ac") is None
