"""Escaping and the small helpers of rendering: quick paths give what the plain ones give."""

from __future__ import annotations

import posixpath
import random
import re
import unicodedata
from urllib.parse import quote_plus

from markupsafe import Markup

from generator import escape, urls
from generator.render import _finalize, _query, format_date, format_score

# What escape.text is meant to do, written the plain way.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
_REFERENCE_TABLE = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]<>#|~^$&\"':=+"}
_REFERENCE_TABLE.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"})


def _reference_text(value: str) -> str:
    s = " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFC", value)).split())
    s = s.translate(_REFERENCE_TABLE)
    return re.sub(r"^(\d+)([.)])|^(-)", lambda m: (m.group(1) + f"&#{ord(m.group(2))};") if m.group(1) else "&#45;", s)


def test_text_escapes_every_character_as_one_translation_would():
    pieces = list("\\`*_{}[]<>#|~^$&\"':=+-.;) 1a") + ["  ", "\t", "\n", "\x0c", "\x1f", "\x7f", "é", "e\u0301", "\u200b",
                                                         "\u202e", "٣", "&#35;", "&amp;", "\u00a0"]
    rng = random.Random(7)
    for _ in range(20000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert escape.text(value) == _reference_text(value), repr(value)
    for code in range(0x3000):
        value = f"x{chr(code)}y"
        assert escape.text(value) == _reference_text(value), hex(code)


def test_long_texts_escape_the_same_without_the_cache():
    abstract = "We propose *Foo* & <bar>: 2.0 times faster -- see https://x.org/a_b. " * 20
    assert len(abstract) > 400
    assert escape.text(abstract) == _reference_text(abstract)
    assert escape.text("1. " + abstract) == _reference_text("1. " + abstract)


def test_numbers_are_formatted_once_and_stay_markup():
    for value in (0.0, 0.125, 1.0, -3.25, 123.456, float("nan")):
        for spec in (".1f", ".2f"):
            made = escape.number(value, spec)
            assert isinstance(made, Markup) and made == format(value, spec)
            assert escape.number(value, spec) is made
    assert format_score(0.456) == "0.46"


def test_query_is_quote_plus_and_needs_no_more_escaping():
    rng = random.Random(3)
    chars = [chr(c) for c in range(0x250)] + ["😀", "\u200b"]
    for _ in range(5000):
        value = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
        quoted = quote_plus(value)
        assert _query(value) == quoted
        assert escape.url("https://x/?q=" + quoted) == "https://x/?q=" + quoted


def test_finalize_prints_small_and_large_whole_numbers_alike():
    for n in (0, 7, 999, 1000, 123456, -5):
        assert _finalize(n) == str(n) and isinstance(_finalize(n), Markup)
    assert _finalize(True) == "true" and _finalize(None) == "" and _finalize(2.5) == "2.5"


def test_dates_are_formatted_the_same_from_the_cache():
    import datetime as dt

    day = dt.date(2025, 3, 1)
    assert format_date(day) == "Mar 1, 2025" == format_date(day)
    assert format_date(day, "month") == "March 2025" and format_date(day, "iso") == "2025-03-01"
    assert format_date(None) == ""


def test_relative_urls_match_posixpath():
    parts = ["a", "b", "papers", "map", "index", "c.d", ".", "..", ""]
    rng = random.Random(11)

    def path() -> str:
        s = "/".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))
        if rng.random() < 0.1:
            s = "/" + s
        if rng.random() < 0.3:
            s += "/"
        return s or "."

    for _ in range(50000):
        a, b = path(), path()
        assert urls._relpath(a, b) == posixpath.relpath(a, b), (a, b)
    assert urls.relative_url("map.md", "papers/x/") == "../papers/x/"
    assert urls.relative_url("index.md", "papers/x/") == "papers/x/"
    assert urls.relative_url("topics/t.md", "assets/map-base.svg") == "../../assets/map-base.svg"
