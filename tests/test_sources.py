"""The listing parser: both variants of the format, dirty input, and every block accounted for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.diagnostics import ContentError, Diagnostics
from generator.models import Listing
from generator.sources import load_listings, parse_date_line, parse_listing, resolve_date

from .conftest import HEADER, listing


def parse(text: str, captured: dt.date | None = dt.date(2025, 3, 11)):
    d = Diagnostics()
    lst = Listing(id="demo", path=Path("content/sources/demo.txt"), title="Demo", captured=captured)
    entries = parse_listing(text, lst, d)
    return entries, [str(x) for x in d.items]


def test_plain_titles_and_abstracts():
    entries, warnings = parse(listing("Title One", "Abstract one.", "Title Two", "Abstract two."))
    assert [(e.title, e.abstract) for e in entries] == [("Title One", "Abstract one."), ("Title Two", "Abstract two.")]
    assert [e.location.line for e in entries] == [11, 15]
    assert warnings == []


def test_short_abstract_and_long_title_are_told_apart_by_position():
    long_title = "A " + "very " * 60 + "long title"
    entries, _ = parse(listing(long_title, "Short.", "T", "Another short one"))
    assert entries[0].title == long_title and entries[0].abstract == "Short."
    assert entries[1].title == "T" and entries[1].abstract == "Another short one"


@pytest.mark.parametrize(
    "meta, expected",
    [
        ("  • 5 authors\n·\nNov 13", (5, None, dt.date(2024, 11, 13), None)),
        ("  • 7 authors\n·\nOct 4, 2023", (7, None, dt.date(2023, 10, 4), None)),
        ("  • 5 authors\n·\nSep 8 8", (5, None, dt.date(2024, 9, 8), 8)),
        ("  • 24 authors\n·\nJul 17, 2024 4", (24, None, dt.date(2024, 7, 17), 4)),
        ("OPPOer OPPO\n·\nOct 22 2", (None, "OPPOer OPPO", dt.date(2024, 10, 22), 2)),
        ("·\nDec 26, 2024 2", (None, None, dt.date(2024, 12, 26), 2)),
        ("  • 1 author\n·\nDec 31", (1, None, dt.date(2024, 12, 31), None)),
    ],
)
def test_metadata_variants(meta, expected):
    entries, warnings = parse(listing("A Title", "An abstract.", meta, "Next Title", "Next abstract."))
    e = entries[0]
    assert (e.author_count, e.organization, e.date, e.upvotes) == expected
    assert entries[1].title == "Next Title" and entries[1].author_count is None
    assert warnings == []


def test_crlf_bom_tabs_and_trailing_spaces():
    text = "\ufeff" + listing("Tabbed\tTitle   ", "An\t abstract.  ", "  • 3 authors  \n·\nNov 13  ").replace("\n", "\r\n")
    entries, warnings = parse(text)
    assert [(e.title, e.abstract, e.author_count, e.date) for e in entries] == [
        ("Tabbed Title", "An abstract.", 3, dt.date(2024, 11, 13))
    ]
    assert warnings == []


def test_title_that_looks_like_metadata_is_a_title():
    entries, warnings = parse(listing("5 authors", "An abstract.", "Oct 4, 2023", "Another abstract."))
    assert [e.title for e in entries] == ["5 authors", "Oct 4, 2023"]
    assert warnings == []


def test_truncated_last_entry_is_kept_with_a_warning():
    entries, warnings = parse(listing("First", "Abstract.", "Cut Off Title"))
    assert [(e.title, e.abstract) for e in entries] == [("First", "Abstract."), ("Cut Off Title", "")]
    assert warnings == ["content/sources/demo.txt:15: paper 'Cut Off Title' has no abstract (the listing ends after its title)"]


def test_missing_abstract_before_metadata_is_reported():
    entries, warnings = parse(listing("Lonely Title", "  • 2 authors\n·\nMar 1, 2024", "Next", "Abstract."))
    assert [(e.title, e.abstract, e.author_count) for e in entries] == [("Lonely Title", "", 2), ("Next", "Abstract.", None)]
    assert warnings == ["content/sources/demo.txt:11: paper 'Lonely Title' has no abstract (metadata follows the title)"]


def test_orphan_metadata_is_reported():
    entries, warnings = parse(listing("  • 2 authors\n·\nMar 1, 2024", "Title", "Abstract."))
    assert [e.title for e in entries] == ["Title"]
    assert warnings == ["content/sources/demo.txt:11: metadata line without a paper before it; ignored"]


def test_impossible_date_keeps_the_paper_and_warns():
    entries, warnings = parse(listing("Title", "Abstract.", "  • 2 authors\n·\nFeb 30, 2024"))
    assert entries[0].date is None and entries[0].author_count == 2
    assert warnings == ["content/sources/demo.txt:15: 'Feb 30, 2024' is not a real date; the paper is kept without a date"]


def test_yearless_date_without_capture_date_warns():
    entries, warnings = parse(listing("Title", "Abstract.", "·\nNov 13"), captured=None)
    assert entries[0].date is None
    assert warnings == [
        "content/sources/demo.txt:15: 'Nov 13' has no year and sources.yaml gives no captured date for 'demo'; "
        "the paper is kept without a date"
    ]


def test_header_date_disagreeing_with_capture_date_warns():
    _, warnings = parse(listing("Title", "Abstract."), captured=dt.date(2025, 3, 12))
    assert warnings == ["content/sources/demo.txt: the page header says 'Mar 11' but sources.yaml gives captured: 2025-03-12"]


def test_header_variants_are_recognised():
    header = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 25\n\n"
    entries, warnings = parse(listing("Title", "Abstract.", header=header), captured=dt.date(2025, 12, 25))
    assert [e.title for e in entries] == ["Title"] and warnings == []


def test_no_header_at_all():
    entries, _ = parse("Title\n\nAbstract.\n")
    assert [(e.title, e.abstract) for e in entries] == [("Title", "Abstract.")]


@pytest.mark.parametrize(
    "line, parsed",
    [("Nov 13", (11, 13, None, None)), ("Sep 8 8", (9, 8, None, 8)), ("Jul 17, 2024 4", (7, 17, 2024, 4)), ("Nov", None), ("13 Nov", None)],
)
def test_parse_date_line(line, parsed):
    assert parse_date_line(line) == parsed


def test_resolve_yearless_dates_against_capture_date():
    captured = dt.date(2025, 3, 11)
    assert resolve_date(3, 11, None, captured) == dt.date(2025, 3, 11)
    assert resolve_date(3, 12, None, captured) == dt.date(2024, 3, 12)
    assert resolve_date(2, 29, None, captured) == dt.date(2024, 2, 29)


def test_real_listings_parse_completely():
    d = Diagnostics()
    listings = load_listings(Path(__file__).parent.parent / "content", d)
    assert [(x.id, len(x.entries)) for x in listings] == [
        ("multi-task", 66), ("pre-training", 105), ("fine-tuning", 63), ("multitask-learning", 47), ("multi-label", 71)
    ]
    assert d.items == []
    mtl = listings[3]
    assert sum(1 for e in mtl.entries if e.author_count) == 46
    assert sum(1 for e in mtl.entries if e.date) == 47


def test_undescribed_listing_builds_with_a_warning(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "my_new-list.txt").write_text(listing("Title", "Abstract."), encoding="utf-8")
    d = Diagnostics()
    listings = load_listings(tmp_path, d)
    assert [(x.id, x.title, len(x.entries)) for x in listings] == [("my-new-list", "My new list", 1)]
    assert len(d.warnings) == 1 and "my_new-list.txt' is not described in sources.yaml" in str(d.warnings[0])


def test_sources_yaml_errors_are_located(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "demo.txt").write_text(listing("Title", "Abstract."), encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        "demo:\n  title: Demo\n  captured: 2025-02-30\n  colour: red\ndemp:\n  title: Typo\n", encoding="utf-8"
    )
    d = Diagnostics()
    load_listings(tmp_path, d)
    name = (tmp_path / "sources.yaml").as_posix()
    with pytest.raises(ContentError) as exc:
        d.raise_if_errors()
    assert str(exc.value).splitlines() == [
        "3 errors in content:",
        f"  {name}:3:13: 'demo'.captured must be a real date written YYYY-MM-DD, not '2025-02-30'",
        f"  {name}:4:3: unknown key 'colour' in the description of 'demo' (valid keys: captured, description, title)",
        f"  {name}:5:1: sources.yaml describes 'demp' but there is no content/sources/demp.txt; did you mean 'demo'?",
    ]
