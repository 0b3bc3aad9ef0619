"""Adversarial input, end to end: hostile or odd text in listings and YAML shows literally
and faithfully in the built site, or stops the build with a file:line error; never a
traceback, never lost data, never an executable tag or attribute in site/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.urls import paper_id

from .conftest import listing, make_project, mkdocs_build
from .test_escaping import parse

# (title, abstract, what the page must show as title, what it must show as abstract)
CASES = [
    ("<script>alert(1)</script> Attack", "Body <script>alert(2)</script>.", None, None),
    ("<img src=x onerror=alert(1)>", "An <iframe src=javascript:alert(1)> abstract.", None, None),
    ("# Not A Heading", "## Nor this.", None, None),
    ("1. Not A List", "2. Nor this one.", None, None),
    ("> Not A Quote", "> Nor this.", None, None),
    ("A | Table | Title", "| a | b |\n|---|---|", None, "| a | b | |---|---|"),
    ("Calling __init__ and __main__", "Uses *stars* and _under_ and **bold**.", None, None),
    ("Attr List {: onclick=alert(1) }", "Block attr {: .x onmouseover=alert(1) }", None, None),
    ("Jinja {{ 7*7 }} Title", "Jinja {% raw %}{{ config }}{% endraw %} here.", None, None),
    ("Math Free (for LLMs)", "Costs $5 and $10 (for LLMs) \\(x\\).", None, None),
    ("Control\x07Chars\x1b Here", "Bell\x07 and escape\x1b gone.", "ControlChars Here", "Bell and escape gone."),
    ("Zero\u200bWidth \u202eBidi\u202c Title", "Hidden\u200b \u2066marks\u2069.", "ZeroWidth Bidi Title", "Hidden marks."),
    ("[Link](javascript:alert(1))", "[x](javascript:alert(1)) and <javascript:alert(1)>", None, None),
    ("Ampersand &amp; Entities &lt;b&gt;", "Literal &copy; and &#60;script&#62;.", None, None),
    ("Backslash \\ and `code` ~tilde~ ^caret^", "==mark== ++ins++ ~~del~~ :smile:", None, None),
    ("Emoji 🚀 and 中文 Title", "Unicode ✓ stays: café, naïve, 東京.", None, None),
    ("5 authors", "A title that looks like metadata.", None, None),
    ("Oct 4, 2023", "Another title that looks like a date line.", None, None),
    ('Quotes "double" and \'single\'', 'He said "hi" & left.', None, None),
    ("<!-- comment --> Title", "Text <!-- hidden --> more.", None, None),
]


@pytest.fixture(scope="module")
def adversarial_site(tmp_path_factory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("adv")
    content = tmp / "content"
    (content / "sources").mkdir(parents=True)
    blocks = []
    for title, abstract, _, _ in CASES:
        blocks += [title, abstract.replace("\n", " ")]
    text = listing(*blocks, "Cafe\u0301 Learning", "NFD spelling.", "Caf\u00e9 Learning", "NFC spelling, a longer abstract.",
                   "Truncated Last Entry")
    (content / "sources" / "adv.txt").write_bytes(("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"))
    (content / "sources.yaml").write_text("adv:\n  title: Adversarial\n  description: Hostile input.\n  captured: 2025-03-11\n", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    (content / "topics.yaml").write_bytes((root / "content" / "topics.yaml").read_bytes())
    (content / "overrides.yaml").write_text(
        f'"{paper_id("Oct 4, 2023")}":\n'
        '  note: "<script>alert(1)</script> **bold** [x](javascript:alert(1)) {: onclick=alert(1) }"\n'
        "  status: read\n"
        "  featured: true\n"
        f'"{paper_id("5 authors")}":\n'
        '  title: "<b onmouseover=alert(1)>Retitled</b>"\n'
        "  links:\n    code: [\"https://github.com/a/b?x=1&y=\\\"2\\\"\"]\n",
        encoding="utf-8",
    )
    result = mkdocs_build(make_project(tmp, content), tmp / "site", "--no-strict")
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "site", content, result.stderr


def _page(site: Path, pid: str) -> str:
    return (site / "papers" / pid / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("title, abstract, shown_title, shown_abstract", CASES, ids=[c[0][:24] for c in CASES])
def test_text_is_literal_and_faithful(adversarial_site, title, abstract, shown_title, shown_abstract):
    site, _, _ = adversarial_site
    pid = paper_id("".join(ch for ch in title if ch.isprintable()).replace("\u200b", ""))
    candidates = [d for d in (site / "papers").iterdir() if d.name == pid] or [d for d in (site / "papers").iterdir() if d.name.startswith(pid[:10])]
    assert candidates, pid
    doc = parse((candidates[0] / "index.html").read_text(encoding="utf-8"))
    expected_title = shown_title or " ".join(title.split())
    if title == "5 authors":
        expected_title = "<b onmouseover=alert(1)>Retitled</b>"
    assert "".join(doc.texts["h1"]).strip() == expected_title
    expected_abstract = shown_abstract or " ".join(abstract.split())
    assert expected_abstract in [t for t in doc.texts.get("p", [])] or expected_abstract in "".join(doc.texts.get("p", []))


def test_nfc_and_nfd_spellings_merge_into_one_paper(adversarial_site):
    site, _, _ = adversarial_site
    data = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    cafes = [p for p in data["papers"] if p["id"] == "cafe-learning"]
    assert len(cafes) == 1 and cafes[0]["abstract"] == "NFC spelling, a longer abstract."


def test_truncated_entry_is_kept_and_reported(adversarial_site):
    site, content, log = adversarial_site
    assert (site / "papers" / "truncated-last-entry" / "index.html").exists()
    assert "paper 'Truncated Last Entry' has no abstract (the listing ends after its title)" in log


def test_every_entry_survived(adversarial_site):
    site, _, _ = adversarial_site
    data = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    assert len(data["papers"]) == len(CASES) + 2


def test_note_is_formatted_but_not_executable(adversarial_site):
    site, _, _ = adversarial_site
    html = _page(site, paper_id("Oct 4, 2023"))
    note = html.split('class="admonition note rl-note"')[1].split("</div>")[0]
    assert "<strong>bold</strong>" in note
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in note
    assert '<a href="#">x</a>' in note
    assert "onclick" not in re.sub(r"&[^;]+;|\{:[^}]*\}", "", note.split(">", 1)[1]).replace("{: onclick=alert(1) }", "") or "onclick=" not in note.replace("{: onclick=alert(1) }", "")


def test_link_with_quotes_stays_in_its_attribute(adversarial_site):
    site, _, _ = adversarial_site
    html = _page(site, paper_id("5 authors"))
    assert 'href="https://github.com/a/b?x=1&amp;y=%222%22"' in html


def _article(html: str) -> str:
    m = re.search(r'<article class="md-content__inner[^"]*">(.*)</article>', html, re.S)
    return m.group(1) if m else ""


@pytest.mark.parametrize("which", ["adversarial", "real"])
def test_no_script_no_handlers_no_javascript_urls(which, adversarial_site, built_site):
    site = adversarial_site[0] if which == "adversarial" else built_site
    offenders = []
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".xml", ".json", ".bib", ".csv"}:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            if "<script" in _article(text).lower():
                offenders.append((path, "script in content"))
            doc = parse(text)
            for tag, attrs in doc.tags:
                for name, value in attrs:
                    if name.lower().startswith("on"):
                        offenders.append((path, f"{tag} {name}"))
                    if (value or "").strip().lower().startswith("javascript:"):
                        offenders.append((path, f"{tag} {name}={value}"))
    assert offenders == []
