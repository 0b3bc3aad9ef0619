"""Hand curation: overrides.yaml and papers.yaml are applied exactly, and mistakes are
reported with file:line:col, the key and what would be valid."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from generator.catalog import build_catalog
from generator.diagnostics import Diagnostics
from generator.overrides import apply_curation, load_curation
from generator.sources import load_listings

from .conftest import listing

A = "model-merging-for-multi-task-learning"
B = "adaptive-model-merging-with-task-vectors"
C = "a-survey-of-multi-label-classification"


def curate(content: Path, overrides: str = "", papers: str | None = None):
    if overrides:
        (content / "overrides.yaml").write_text(textwrap.dedent(overrides), encoding="utf-8")
    if papers is not None:
        (content / "papers.yaml").write_text(textwrap.dedent(papers), encoding="utf-8")
    d = Diagnostics()
    cur = load_curation(content, d)
    result = apply_curation(build_catalog(load_listings(content, d)), cur, d)
    name = (content / "overrides.yaml").as_posix()
    messages = [str(x).replace(name, "O").replace((content / "papers.yaml").as_posix(), "P") for x in d.items]
    return {p.id: p for p in result}, cur, messages


def test_every_field_is_applied(small_content):
    papers, cur, messages = curate(small_content, f"""\
        "{A}":
          title: "Merging Models, Retitled"
          abstract: "A new abstract with code at https://github.com/o/r."
          date: 2024-02-29
          authors: [Ada Lovelace, Alan Turing]
          organization: "no"
          arxiv: "2310.12340"
          links:
            code: [https://github.com/o/r2]
            project: [https://example.org/p]
            pdf: [https://example.org/p.pdf]
          note: "**Start here.**"
          featured: true
          status: reading
        """)
    assert messages == []
    p = papers[A]
    assert (p.title, p.abstract, p.date) == ("Merging Models, Retitled", "A new abstract with code at https://github.com/o/r.", dt.date(2024, 2, 29))
    assert (p.authors, p.author_count, p.organization, p.arxiv) == (["Ada Lovelace", "Alan Turing"], 2, "no", "2310.12340")
    assert p.links == {"code": ["https://github.com/o/r2"], "project": ["https://example.org/p"], "pdf": ["https://example.org/p.pdf"]}
    assert (p.note, p.featured, p.status, p.hidden) == ("**Start here.**", True, "reading", False)
    assert p.id == A  # the id never changes when a paper is retitled
    assert p.overridden == ["abstract", "arxiv", "authors", "date", "featured", "links", "note", "organization", "status", "title"]


def test_yaml_11_surprises_do_not_happen(small_content):
    papers, _, messages = curate(small_content, f"""\
        "{A}":
          title: no
          arxiv: 2310.12340
          organization: 1e3
        """)
    assert messages == []
    assert (papers[A].title, papers[A].arxiv, papers[A].organization) == ("no", "2310.12340", "1e3")


def test_hidden_needs_a_reason_and_hides(small_content):
    papers, _, messages = curate(small_content, f"""\
        "{A}":
          hidden: true
          reason: Retracted.
        "{B}":
          hidden: true
        """)
    assert papers[A].hidden and papers[A].hidden_reason == "Retracted."
    assert messages == [f"O:5:11: '{B}': hidden: true needs a reason"]


def test_duplicate_of_merges_and_redirects(small_content):
    papers, cur, messages = curate(small_content, f"""\
        "{B}":
          duplicate_of: "{A}"
        """)
    assert messages == []
    assert B not in papers and papers[A].aliases == [B]
    assert cur.redirects == {B: A}
    assert papers[A].links == {"code": ["https://github.com/x/merge"]}


def test_hand_added_paper(small_content):
    papers, _, messages = curate(small_content, papers="""\
        - title: "A Hand-Added Paper on Mixture of Experts"
          abstract: "We add a paper by hand."
          date: 2024-05-01
        - id: custom-id
          title: Second
          abstract: Another.
        """)
    assert messages == []
    p = papers["a-hand-added-paper-on-mixture-of-experts"]
    assert (p.hand_added, p.date, p.sources) == (True, dt.date(2024, 5, 1), [])
    assert papers["custom-id"].title == "Second"


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (f'"{A}x":\n  featured: true\n', [f"O:1:1: unknown paper id '{A}x'; did you mean '{A}'?"]),
        (f'"{A}":\n  featured: yes\n', [f"O:2:13: '{A}': featured must be true or false, not 'yes'"]),
        (f'"{A}":\n  date: 2024-02-30\n', [f"O:2:9: '{A}': date must be a real date written YYYY-MM-DD, not '2024-02-30'"]),
        (f'"{A}":\n  date: Oct 4, 2023\n', [f"O:2:9: '{A}': date must be a real date written YYYY-MM-DD, not 'Oct 4, 2023'"]),
        (f'"{A}":\n  titel: X\n', [f"O:2:3: unknown key 'titel' in '{A}'; did you mean 'title'? (valid keys: abstract, arxiv, authors, date, duplicate_of, featured, hidden, links, note, organization, reason, status, title, topics)"]),
        (f'"{A}":\n  status: done\n', [f"O:2:11: '{A}': status must be one of to-read, reading, read, not 'done'"]),
        (f'"{A}":\n  links:\n    code: [http://github.com/x]\n', [f"O:3:12: each item of '{A}': links.code must be an https:// URL, not 'http://github.com/x'"]),
        (f'"{A}":\n  links:\n    code: [javascript:alert(1)]\n', [f"O:3:12: each item of '{A}': links.code must be an https:// URL, not 'javascript:alert(1)'"]),
        (f'"{A}":\n  links:\n    code: https://github.com/x\n', [f"O:3:11: '{A}': links.code must be a list, not 'https://github.com/x'"]),
        (f'"{A}":\n  links:\n    video: [https://x.org]\n', [f"O:3:5: unknown key 'video' in '{A}': links (valid keys: code, pdf, project)"]),
        (f'"{A}":\n  authors: Ada\n', [f"O:2:12: '{A}': authors must be a list, not 'Ada'"]),
        (f'"{A}":\n  arxiv: "arxiv 1234"\n', [f"O:2:10: '{A}': arxiv must be an arXiv id such as '2310.01217', not 'arxiv 1234'"]),
        (f'"{A}":\n  title: ""\n', [f"O:2:10: '{A}': title must not be empty"]),
        (f'"{A}":\n  title: [a, b]\n', [f"O:2:10: '{A}': title must be a text, not a list"]),
        (f'"{A}":\n  featured: true\n"{A}":\n  featured: false\n', [f"O:3:1: duplicate key '{A}' (first at line 1); YAML would silently keep only the last one"]),
        (f'"{A}":\n  note: !!python/object:os.system x\n', [f"O:2:9: the tag 'tag:yaml.org,2002:python/object:os.system' is not allowed here; write a plain value"]),
        (f'"{A}":\n  title: [unclosed\n', ["O:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"]),
        (f'"{A}":\n  duplicate_of: "{B}"\n"{B}":\n  duplicate_of: "{A}"\n', [f"O:4:17: duplicate_of forms a cycle: {B} -> {A} -> {B}"]),
        (f'"{A}":\n  duplicate_of: "{A}"\n', [f"O:2:17: '{A}': duplicate_of names the paper itself"]),
        (f'"{A}":\n  duplicate_of: nope\n', [f"O:2:17: '{A}': duplicate_of names an unknown paper id 'nope'"]),
        (f'"{A}":\n  duplicate_of: "{B}"\n"{B}":\n  hidden: true\n  reason: Spam.\n', [f"O:2:17: '{A}': duplicate_of names '{B}', which is hidden; merge into a visible paper"]),
        (f'"{A}":\n  reason: Why not.\n', [f"O:2:11: '{A}': reason is only used with hidden: true"]),
        ('- a\n- b\n', ["O:1:1: overrides.yaml (paper id -> fields) must be a mapping of keys to values, not list"]),
    ],
)
def test_invalid_overrides_are_reported_exactly(small_content, overrides, expected):
    _, _, messages = curate(small_content, overrides)
    assert messages == expected


def test_redundant_override_is_a_warning(small_content):
    _, _, messages = curate(small_content, f'"{A}":\n  title: Model Merging for Multi-Task Learning\n')
    assert messages == [f"O:2:10: '{A}': title is the same as in the listing; the override is redundant"]


def test_empty_overrides_file_is_fine(small_content):
    (small_content / "overrides.yaml").write_text("# nothing yet\n", encoding="utf-8")
    papers, _, messages = curate(small_content)
    assert messages == [] and len(papers) == 3


def test_all_errors_are_collected(small_content):
    _, _, messages = curate(small_content, f'"{A}":\n  featured: yes\n  status: done\nnope:\n  featured: true\n')
    assert len(messages) == 3


@pytest.mark.parametrize(
    "papers_yaml, expected",
    [
        ("- title: Only a title\n", ["P:1:3: paper #1 needs a abstract"]),
        ("- abstract: Only an abstract\n", ["P:1:3: paper #1 needs a title"]),
        (f"- title: Model Merging for Multi-Task Learning\n  abstract: Again.\n", [f"P:1:3: papers.yaml adds '{A}', which a listing already has; edit it in overrides.yaml instead"]),
        ("- id: Not A Slug\n  title: T\n  abstract: A\n", ["P:1:7: paper #1: id 'Not A Slug' is not a slug; write 'not-a-slug'"]),
        ("- title: T\n  abstract: A\n  duplicate_of: x\n", ["P:3:3: unknown key 'duplicate_of' in paper #1 (valid keys: abstract, arxiv, authors, date, featured, hidden, id, links, note, organization, reason, status, title, topics)"]),
    ],
)
def test_invalid_hand_added_papers(small_content, papers_yaml, expected):
    _, _, messages = curate(small_content, papers=papers_yaml)
    assert messages == expected


def test_check_command_accounts_for_the_content(small_content, capsys):
    from generator.cli import main

    (small_content / "overrides.yaml").write_text(
        f'"{A}":\n  title: Retitled\n  featured: true\n"{B}":\n  hidden: true\n  reason: Off topic.\n', encoding="utf-8"
    )
    (small_content / "papers.yaml").write_text("- title: Hand Added\n  abstract: By hand.\n", encoding="utf-8")
    assert main(["check", "--content", str(small_content)]) == 0
    out = capsys.readouterr().out
    assert "  demo     3 entries  (2025-03-11)" in out
    assert "Papers:              3 shown, 1 hidden" in out
    assert "Hand-added papers:   1" in out
    assert "Overridden fields:   3 (featured 1, hidden 1, title 1)" in out
    assert out.rstrip().endswith("OK: the content is valid.")


def test_check_command_fails_on_errors_with_locations(small_content, capsys):
    from generator.cli import main

    (small_content / "overrides.yaml").write_text("nope:\n  featured: yes\n", encoding="utf-8")
    assert main(["check", "--content", str(small_content)]) == 1
    out = capsys.readouterr().out
    name = (small_content / "overrides.yaml").as_posix()
    assert "2 errors:" in out
    assert f"  {name}:1:1: unknown paper id 'nope'" in out
    assert f"  {name}:2:13: 'nope': featured must be true or false, not 'yes'" in out
    assert out.rstrip().endswith("FAILED: fix the errors above.")
    assert "Traceback" not in out


def test_curated_site_shows_every_edit(tmp_path, small_content):
    import json

    from .conftest import make_project, mkdocs_build

    (small_content / "overrides.yaml").write_text(
        f'"{A}":\n  title: "Merging, Retitled"\n  featured: true\n  status: reading\n  note: "Read **this** first."\n'
        f'  authors: [Ada Lovelace, Alan Turing]\n'
        f'"{B}":\n  duplicate_of: "{A}"\n'
        f'"{C}":\n  hidden: true\n  reason: Off topic.\n',
        encoding="utf-8",
    )
    (small_content / "papers.yaml").write_text("- title: Hand Added Paper\n  abstract: Added by hand.\n", encoding="utf-8")
    result = mkdocs_build(make_project(tmp_path, small_content), tmp_path / "site")
    assert result.returncode == 0, result.stderr[-2000:]
    site = tmp_path / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Featured" in home and "Merging, Retitled" in home and 'href="status/"' in home
    page = (site / "papers" / A / "index.html").read_text(encoding="utf-8")
    assert "Maintainer&#39;s note" in page or "Maintainer's note" in page
    assert "<strong>this</strong>" in page and "Ada Lovelace, Alan Turing" in page
    assert "Set by hand: authors, title." in page
    assert 'class="rl-status rl-status--reading"' in page
    redirect = (site / "papers" / B / "index.html").read_text(encoding="utf-8")
    assert f'<meta http-equiv="refresh" content="0; url=../{A}/">' in redirect
    assert not (site / "papers" / C).exists()
    assert all(C not in p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    status = (site / "status" / "index.html").read_text(encoding="utf-8")
    assert "Merging, Retitled" in status
    hand = (site / "papers" / "hand-added-paper" / "index.html").read_text(encoding="utf-8")
    assert "Added to the list by hand" in hand and "Appears in" not in hand
    data = {p["id"]: p for p in json.loads((site / "papers.json").read_text(encoding="utf-8"))["papers"]}
    assert data[A]["overridden"] == ["authors", "featured", "note", "status", "title"]
    assert data[A]["aliases"] == [B] and C not in data and data["hand-added-paper"]["hand_added"] is True


def test_yaml_files_read_the_same_with_either_parser(monkeypatch):
    """libyaml reads hand-edited YAML fast; PyYAML's own parser, which words the errors,
    must give the same nodes at the same places."""
    from generator import yamlio

    def nodes(node) -> list:
        out = [(node.kind, node.loc.line, node.loc.col, node.value, node.plain)]
        for child in node.children:
            out += nodes(child)
        for key, value in node.items:
            out += nodes(key) + nodes(value)
        return out

    tricky = "ä: {ß: [1, 'x', \"é\"]}\nkey: ✎✎ value\nlist:\n  - a\n  -   b\nlit: |\n  two\n  lines\nno: ~\n"
    texts = [Path("content/topics.yaml").read_text(encoding="utf-8"), tricky]
    fast = [nodes(yamlio.load_yaml(Path("t.yaml"), Diagnostics(), text=text).root) for text in texts]
    monkeypatch.setattr(yamlio, "_FAST_LOADER", None)
    assert fast == [nodes(yamlio.load_yaml(Path("t.yaml"), Diagnostics(), text=text).root) for text in texts]
