"""Merging entries into papers, and cleaning the text copied from listing pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.catalog import build_catalog
from generator.cleaning import clean_text, find_urls, first_sentence, short_name
from generator.diagnostics import Location
from generator.models import Entry, Listing
from generator.pipeline import load_catalog

from .conftest import CONTENT


def entry(listing: str, title: str, abstract: str = "Abstract.", line: int = 1, **kw) -> Entry:
    return Entry(listing=listing, location=Location(f"{listing}.txt", line), title=title, abstract=abstract, **kw)


def test_same_paper_in_two_listings_merges_with_richest_metadata():
    a = Listing("a", Path("a.txt"), "A", captured=dt.date(2025, 3, 11))
    b = Listing("b", Path("b.txt"), "B", captured=dt.date(2025, 12, 25))
    a.entries = [entry("a", "Merlin:Empowering Multimodal LLMs", "Short.")]
    b.entries = [
        entry("b", "Merlin: Empowering Multimodal LLMs", "A longer abstract wins.", 7, author_count=5,
              date=dt.date(2023, 12, 2), upvotes=3),
        entry("b", "Other Paper", line=11),
    ]
    papers = build_catalog([a, b])
    assert [p.id for p in papers] == ["merlin-empowering-multimodal-llms", "other-paper"]
    merlin = papers[0]
    assert merlin.title == "Merlin:Empowering Multimodal LLMs"  # first listing's title
    assert merlin.abstract == "A longer abstract wins."
    assert (merlin.author_count, merlin.date, merlin.upvotes, merlin.upvotes_as_of) == (5, dt.date(2023, 12, 2), 3, dt.date(2025, 12, 25))
    assert merlin.sources == ["a", "b"]
    assert [str(o) for o in merlin.origins] == ["a.txt:1", "b.txt:7"]


def test_nfc_and_nfd_titles_are_one_paper():
    a = Listing("a", Path("a.txt"), "A")
    a.entries = [entry("a", "Caf\u00e9 Learning"), entry("a", "Cafe\u0301 Learning", line=5)]
    papers = build_catalog([a])
    assert len(papers) == 1 and papers[0].id == "cafe-learning" and len(papers[0].origins) == 2


def test_real_catalog_counts_and_scalearn():
    papers = load_catalog(CONTENT)
    assert len(papers) == 295
    scalearn = next(p for p in papers if p.id == "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale")
    assert (scalearn.author_count, scalearn.date) == (5, dt.date(2023, 10, 2))
    assert scalearn.sources == ["multi-task", "fine-tuning", "multitask-learning", "multi-label"]
    assert sum(len(p.sources) for p in papers) == 352


@pytest.mark.parametrize(
    "raw, clean",
    [
        (r"accuracy of 100\% on", "accuracy of 100% on"),
        (r"the ``chain-of-thought'' recipe", "the “chain-of-thought” recipe"),
        (r"the Fr\'echet mean", "the Fréchet mean"),
        (r"tasks, \eg classification", "tasks, e.g. classification"),
        (r"M$^3$ViT is fast", "M³ViT is fast"),
        (r"$O(n^{2})$ time", "O(n²) time"),
        (r"five domains: teal{Tool-use}, orange{Planning}", "five domains: Tool-use, Planning"),
        (r"systems including Wukong{ViT-B} and", "systems including Wukong (ViT-B) and"),
        ("zero\u200bwidth and \u202eoverride\u202c and bell\u0007", "zerowidth and override and bell"),
        ("  spaced \t out  ", "spaced out"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_self_macros_become_the_papers_name():
    assert clean_text(r"we present \ours, and \model{} wins; \method{} too", short_name("UniFine: A Framework")) == (
        "we present UniFine, and UniFine wins; UniFine too"
    )
    assert clean_text(r"we present \ours.", short_name("A Framework Without a Colon")) == "we present our method."


def test_find_urls_strips_punctuation_and_tilde():
    text = (
        "Code at ~https://huggingface.co/IDEA-CCNL/Ziya. See https://github.com/a/b.) and https://github.com/c/d}. "
        "Also https://github.com/e/f.git and https://github.com/g/h, https://en.wikipedia.org/wiki/X_(y). Again https://github.com/g/h"
    )
    assert find_urls(text) == [
        "https://huggingface.co/IDEA-CCNL/Ziya",
        "https://github.com/a/b",
        "https://github.com/c/d",
        "https://github.com/e/f",
        "https://github.com/g/h",
        "https://en.wikipedia.org/wiki/X_(y)",
    ]


def test_real_abstract_links_are_clean():
    papers = load_catalog(CONTENT)
    urls = [u for p in papers for v in p.links.values() for u in v]
    assert len(urls) >= 70
    assert not [u for u in urls if u[-1] in ".,;)}" or u.startswith("~")]
    prollama = next(p for p in papers if p.id.startswith("prollama"))
    assert prollama.links == {"code": ["https://github.com/Lyu6PosHao/ProLLaMA"]}


def test_first_sentence():
    assert first_sentence("We study e.g. this. Then that.") == "We study e.g. this."
    assert first_sentence("No full stop here") == "No full stop here"
    assert first_sentence("Trained on data (e.g. ImageNet) and more, et al. Find it. Then.") == (
        "Trained on data (e.g. ImageNet) and more, et al. Find it."
    )
    # Abbreviations right at the start, or ending a longer word, which is no abbreviation.
    assert first_sentence("Approx. Ten models. Then.") == "Approx. Ten models."
    assert first_sentence("Fig. 3 shows. Then.") == "Fig. 3 shows."
    assert first_sentence("It beats canvas. Then more.") == "It beats canvas."
    assert first_sentence("Compared with Smith et al. We do better. Then.") == "Compared with Smith et al. We do better."
