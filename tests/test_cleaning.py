"""Cleaning helpers: white space, invisible characters, URLs and LaTeX, on text built to
reach every shortcut they take."""

from __future__ import annotations

import random
import re
import unicodedata

from generator.cleaning import clean_text, find_urls, fold_spaces, strip_invisible

_PIECES = [
    "a", "B", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\x00", "\u200b", "\u202e", "\ufeff", "e\u0301", "é",
    "\\", "$", "`", "{", "}", "''", "``", "rightarrow", "teal{x}", "\\ours", "\\eg", "$x^2$", "\\%", "http://a.b/c",
    "~https://x.y/(z)", "https://g.com/r.git", "://", "x://y", "HTTPS://A", ".", ")",
]


def _texts() -> list[str]:
    rng = random.Random(1)
    return ["".join(rng.choices(_PIECES, k=rng.randint(0, 10))) for _ in range(5000)]


def test_fold_spaces_is_split_and_join():
    for text in _texts() + ["", " ", "a  b", " a", "a ", "a\tb"]:
        assert fold_spaces(text) == " ".join(text.split()), repr(text)


def test_strip_invisible_drops_controls_and_bidi_and_composes():
    invisible = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
    for text in _texts():
        assert strip_invisible(text) == invisible.sub("", unicodedata.normalize("NFC", text)), repr(text)


def test_text_without_latex_is_only_folded():
    for text in _texts():
        if not any(mark in text for mark in ("\\", "$", "`", "{", "''", "rightarrow")):
            assert clean_text(text) == " ".join(strip_invisible(text).split()), repr(text)


def test_find_urls_at_the_start_of_the_text():
    assert find_urls("~https://a.b/c and https://a.b/c.") == ["https://a.b/c"]
    assert find_urls("https://x.y/z") == ["https://x.y/z"]
    assert find_urls("x://y and HTTPS://A") == []
