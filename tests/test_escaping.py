"""Untrusted text shows literally everywhere and never becomes markup (checked in built HTML)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator import escape
from generator.cleaning import clean_text
from generator.urls import paper_id

from .conftest import listing, make_project, mkdocs_build

EVIL_TITLE = "<img src=x onerror=alert(1)> {{ 7*7 }} | *bold* _x_ [a](javascript:alert(1))"
EVIL_ABSTRACT = (
    "# Not a heading <script>alert('x')</script> [click](javascript:alert(1)) {{ config }} {% raw %} "
    "a | b | c, *stars*, __init__, {: onclick=alert(1) } $x$ (for LLMs) `code` <b onmouseover=alert(1)>hi</b>"
)


class _Text(HTMLParser):
    """Collects the text of chosen elements and every tag/attribute seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack:
            self.texts.setdefault(self.stack[-1], []).append(data)


def parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("evil")
    content = tmp / "content"
    (content / "sources").mkdir(parents=True)
    (content / "sources" / "evil.txt").write_text(
        listing(EVIL_TITLE, EVIL_ABSTRACT, "A Normal Multi-Task Paper", "We study multi-task learning."), encoding="utf-8"
    )
    (content / "sources.yaml").write_text("evil:\n  title: <i>Evil</i> list\n  description: '{{ x }} <b>y</b>'\n", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    (content / "topics.yaml").write_bytes((root / "content" / "topics.yaml").read_bytes())
    result = mkdocs_build(make_project(tmp, content), tmp / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "site"


def test_evil_title_is_literal_on_its_page(evil_site: Path):
    html = (evil_site / "papers" / paper_id(EVIL_TITLE) / "index.html").read_text(encoding="utf-8")
    doc = parse(html)
    assert "".join(doc.texts["h1"]).strip() == EVIL_TITLE
    assert "".join(doc.texts["title"]).startswith(EVIL_TITLE)
    abstract = [t for t in doc.texts.get("p", []) if "Not a heading" in t]
    # Display text is the cleaned abstract (LaTeX math "$x$" becomes "x"); it must show literally.
    assert "".join(abstract) == clean_text(EVIL_ABSTRACT)
    assert "<script>alert('x')</script>" in clean_text(EVIL_ABSTRACT)


def test_no_executable_markup_anywhere(evil_site: Path):
    for page in evil_site.rglob("*.html"):
        doc = parse(page.read_text(encoding="utf-8"))
        for tag, attrs in doc.tags:
            assert tag != "img" or dict(attrs).get("src") != "x", page
            for name, value in attrs:
                assert not name.startswith("on"), (page, tag, name)
                assert not (value or "").strip().lower().startswith("javascript:"), (page, tag, name, value)
        # Material's own inline scripts carry no text from the content.
        for chunk in doc.texts.get("script", []):
            assert "alert" not in chunk, page


def test_listing_title_from_yaml_is_literal(evil_site: Path):
    html = (evil_site / "lists" / "evil" / "index.html").read_text(encoding="utf-8")
    doc = parse(html)
    assert "".join(doc.texts["h1"]).strip() == "<i>Evil</i> list"
    assert "{{ x }} <b>y</b>" in "".join(doc.texts.get("p", []))


def test_search_index_holds_text_not_markup(evil_site: Path):
    index = json.loads((evil_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = [d for d in index["docs"] if d["location"].startswith("papers/" + paper_id(EVIL_TITLE))]
    assert docs
    assert all("<img" not in d["title"] and "<script" not in d["text"] for d in docs)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in d["title"] for d in docs)


def test_papers_json_keeps_the_original_text(evil_site: Path):
    data = json.loads((evil_site / "papers.json").read_text(encoding="utf-8"))
    titles = [p["title"] for p in data["papers"]]
    assert EVIL_TITLE in titles


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a*b", "a&#42;b"),
        ("<x>", "&lt;x&gt;"),
        ("1. item", "1&#46; item"),
        ("- item", "&#45; item"),
        ("a\nb\tc", "a b c"),
        ("{{ x }}", "&#123;&#123; x &#125;&#125;"),
        ('say "hi"', "say &quot;hi&quot;"),
    ],
)
def test_escape_text(value, expected):
    assert str(escape.text(value)) == expected


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//evil.org", "https://", "https://a b"])
def test_unsafe_urls_become_hash(url):
    assert str(escape.url(url)) == "#"


def test_safe_url_is_attribute_safe():
    assert str(escape.url('https://x.org/a?b=1&c="2"')) == "https://x.org/a?b=1&amp;c=%222%22"


def test_note_markdown_is_formatted_but_never_raw_html():
    html = str(escape.markdown_note("**Read** this <script>x()</script> [a](javascript:x()) [b](https://ok.org)\n\n# Big"))
    assert "<strong>Read</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert '<a href="#">a</a>' in html and '<a href="https://ok.org">b</a>' in html
    assert re.search(r"<h4>Big</h4>", html)
