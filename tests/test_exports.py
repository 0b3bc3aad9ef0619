"""Data exports: BibTeX that real parsers read, CSV for spreadsheets, and ``readinglist export``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware

from generator import exports
from generator.cli import main
from generator.models import Paper
from generator.pipeline import build_site

from .conftest import CONTENT, TEMPLATES

SCALEARN = "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale"
TRICKY_TITLES = [
    "Sets {A, B} and {C}: nested {braces {inside}}",
    "Top-5% accuracy & 100% recall",
    "snake_case and #hashtags cost $5",
    r"A back\slash, a~tilde and C:\path\to",
    "Multi-line\ntitle  with   spaces",
]


@pytest.fixture(scope="module")
def site():
    """The real content, built once for this module."""
    return build_site(CONTENT, TEMPLATES)


def paper(title: str, pid: str | None = None, **fields) -> Paper:
    """A paper record as the pipeline makes them, with just what a test needs."""
    pid = pid or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return Paper(id=pid, title=title, abstract="", raw_title=title, raw_abstract="", **fields)


def parse_bib(data: bytes, decode: bool = False):
    """Parse BibTeX as a reference manager would; LaTeX decoded when asked."""
    middleware = [LatexDecodingMiddleware()] if decode else []
    return bibtexparser.parse_string(data.decode("utf-8"), append_middleware=middleware)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- BibTeX


def test_site_bibtex_parses_with_one_entry_per_paper(site):
    library = parse_bib(site.exports["papers.bib"])
    assert library.failed_blocks == []
    assert len(library.entries) == len(site.view.visible)
    keys = [e.key for e in library.entries]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9]+", k) for k in keys)
    assert all(e.entry_type == "misc" for e in library.entries)


def test_scalearn_entry_has_what_is_known(site):
    library = parse_bib(site.exports["papers.bib"], decode=True)
    entry = next(e for e in library.entries if e.key.startswith("scalearn2023"))
    assert entry["title"] == "ScaLearn: Simple and Highly Parameter-Efficient Task Transfer by Learning to Scale"
    assert entry["year"] == "2023" and entry["month"] == "oct"
    assert "author" not in entry  # only a count of authors is known
    scalearn = site.view.by_id[SCALEARN]
    assert entry["keywords"] == ", ".join(site.view.topic_name(t) for t in scalearn.topic_ids)


def test_paper_page_and_downloads_use_the_same_key(site):
    view = site.view
    bib = site.exports["papers.bib"].decode("utf-8")
    for p in view.visible:
        key = exports.bibtex_key(p, view)
        assert f"@misc{{{key},\n" in bib
        assert view.paper_view(p).bibtex.startswith(f"@misc{{{key},")
    for topic in view.topics:
        topic_bib = site.exports[f"topics/{topic.id}/papers.bib"]
        library = parse_bib(topic_bib)
        assert library.failed_blocks == []
        members = [p for p in view.visible if topic.id in p.topic_ids]
        assert [e.key for e in library.entries] == [exports.bibtex_key(p, view) for p in members]


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_tricky_titles_round_trip(title):
    data = exports.papers_bibtex([paper(title, date=dt.date(2024, 3, 1))], None)
    library = parse_bib(data, decode=True)
    assert library.failed_blocks == []
    [entry] = library.entries
    assert entry["title"] == " ".join(title.split())


@pytest.mark.parametrize("title", ["Unpaired { brace", "Closing } first {", "}"])
def test_unpaired_braces_keep_the_entry_balanced(title):
    entry = exports.bibtex_entry(paper(title + " x", pid="unpaired"))
    field = entry.split("title = ", 1)[1].split("\n", 1)[0].rstrip(",")
    depth = 0
    for c in field:  # BibTeX counts every brace, escaped or not
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    assert depth == 0
    library = parse_bib(exports.papers_bibtex([paper(title + " x", pid="unpaired")], None))
    assert library.failed_blocks == [] and len(library.entries) == 1


def test_authors_links_and_arxiv():
    p = paper(
        "Learning to Scale", authors=["Ada Lovelace", "Smith and Sons Lab", "Grace_Hopper"],
        arxiv="2310.01217", date=dt.date(2023, 10, 2),
        links={"code": ["https://github.com/x/y"], "pdf": ["https://example.org/a%20b{1}.pdf"]},
    )
    entry = exports.bibtex_entry(p)
    assert "  author = {Ada Lovelace and {Smith and Sons Lab} and Grace\\_Hopper},\n" in entry
    assert "  month = oct,\n" in entry
    assert "  url = {https://arxiv.org/abs/2310.01217}" in entry
    assert "  eprint = {2310.01217},\n  archiveprefix = {arXiv},\n" in entry
    p.arxiv = None
    assert "  url = {https://example.org/a%20b%7B1%7D.pdf}" in exports.bibtex_entry(p)
    library = parse_bib(exports.papers_bibtex([p], None))
    assert library.failed_blocks == []


def test_paper_without_links_cites_its_page_on_the_published_list():
    p = paper("Plain Paper")
    assert "  url = {https://example.org/list/papers/plain-paper/}" in exports.bibtex_entry(
        p, site_url="https://example.org/list/")
    assert "url" not in exports.bibtex_entry(p)


def test_clashing_keys_get_letters_that_clash_with_nothing():
    day = dt.date(2024, 1, 1)
    papers = [
        paper("Deep Multi Learning Analysis", pid="deep-multi-learning-analysis", date=day),  # plain key deep2024mla
        paper("Deep Multi Learning", pid="deep-multi-learning", date=day),  # deep2024ml
        paper("Deep Multi Label", pid="deep-multi-label", date=day),  # deep2024ml
    ]
    keys = exports._unique_keys(papers)
    assert keys == {
        "deep-multi-label": "deep2024ml",  # first in id order keeps the plain key
        "deep-multi-learning": "deep2024mlb",  # "a" would be the next paper's plain key
        "deep-multi-learning-analysis": "deep2024mla",
    }
    library = parse_bib(exports.papers_bibtex(papers, None))
    assert [e.key for e in library.entries] == ["deep2024mla", "deep2024mlb", "deep2024ml"]



# -- feeds


def test_a_feed_made_alone_matches_the_sites(site):
    """The site's feeds share each paper's entry; a feed made on its own is the same file."""
    view, options = site.view, site.options
    topic = max(view.topics, key=lambda t: (view.topic_count(t.id), t.id))
    alone = exports.atom_feed(
        list(reversed(view.by_topic[topic.id])), view, options, TEMPLATES,
        title=f"{options.site_name}: {topic.name}", subtitle=topic.description,
        path=f"topics/{topic.id}/feed.xml", page_path=topic.url)
    assert alone == site.exports[f"topics/{topic.id}/feed.xml"]


def test_only_papers_json_waits_for_related_papers(site):
    """The other data files are made before related papers are known: none may show them."""
    import copy

    view, options = site.view, site.options
    assert list(site.exports) == exports.export_names(view)
    before = exports.exports_without_related(view, options, TEMPLATES)
    assert sorted(before) == sorted(set(site.exports) - {"papers.json"})
    unlinked = copy.deepcopy(view)
    for p in unlinked.visible:
        p.related, p.backlinks = [], []
    assert exports.exports_without_related(unlinked, options, TEMPLATES) == before
    assert exports.exports_with_related(site, unlinked) != exports.exports_with_related(site, view)


# -- CSV


def test_csv_has_one_row_per_paper(site):
    rows = list(csv.DictReader(io.StringIO(site.exports["papers.csv"].decode("utf-8"))))
    assert len(rows) == len(site.view.visible)
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    row = next(r for r in rows if r["id"] == SCALEARN)
    scalearn = site.view.by_id[SCALEARN]
    assert row["title"] == scalearn.title
    assert (row["date"], row["author_count"], row["upvotes"]) == ("2023-10-02", "5", "")
    assert row["url"] == f"papers/{SCALEARN}/"
    assert row["topics"] == "; ".join(scalearn.topic_ids)
    assert row["sources"] == "multi-task; fine-tuning; multitask-learning; multi-label"
    assert row["code"] == "; ".join(scalearn.links.get("code", []))


# -- readinglist export


@pytest.mark.parametrize(("fmt", "name"), [("json", "papers.json"), ("csv", "papers.csv"), ("bibtex", "papers.bib")])
def test_export_writes_what_the_site_offers(fmt, name, site, tmp_path, capsys):
    out = tmp_path / name
    code, stdout, stderr = run(
        ["export", "--format", fmt, "--content", str(CONTENT), "--templates", str(TEMPLATES), "-o", str(out)], capsys)
    assert (code, stdout, stderr) == (0, "", "")
    assert out.read_bytes() == site.exports[name]


def test_export_one_topic_to_stdout(site, capsys):
    topic = max(site.view.topics, key=lambda t: site.view.topic_count(t.id))
    code, stdout, _ = run(
        ["export", "--format", "bibtex", "--topic", topic.id, "--content", str(CONTENT), "--templates", str(TEMPLATES)],
        capsys)
    assert code == 0
    assert stdout.encode("utf-8") == site.exports[f"topics/{topic.id}/papers.bib"]
    code, stdout, _ = run(
        ["export", "--topic", topic.id, "--content", str(CONTENT), "--templates", str(TEMPLATES)], capsys)
    data = json.loads(stdout)
    assert len(data["papers"]) == site.view.topic_count(topic.id)
    assert all(topic.id in p["topics"] for p in data["papers"])


def test_export_unknown_topic_suggests_the_closest(site, capsys):
    topic = site.view.topics[0].id
    code, stdout, stderr = run(
        ["export", "--topic", topic[:-1], "--content", str(CONTENT), "--templates", str(TEMPLATES)], capsys)
    assert (code, stdout) == (1, "")
    assert stderr == f"readinglist export: unknown topic id '{topic[:-1]}'; did you mean '{topic}'?\n"
    code, _, stderr = run(["export", "--topic", "zzzz", "--content", str(CONTENT), "--templates", str(TEMPLATES)], capsys)
    assert code == 1
    assert stderr == "readinglist export: unknown topic id 'zzzz' (`readinglist topics` lists them)\n"


# -- the built site


def test_built_site_offers_every_download(built_site: Path):
    for name in ("papers.json", "papers.csv", "papers.bib", "feed.xml"):
        assert (built_site / name).is_file(), name
    library = parse_bib((built_site / "papers.bib").read_bytes())
    assert len(library.entries) == len(json.loads((built_site / "papers.json").read_text("utf-8"))["papers"])


def test_topic_pages_link_their_bibtex(built_site: Path):
    data = json.loads((built_site / "papers.json").read_text("utf-8"))
    for topic in data["topics"]:
        page = built_site / topic["url"] / "index.html"
        links = re.findall(r'href="([^"]*papers\.bib)"', page.read_text("utf-8"))
        assert links, topic["id"]
        target = (page.parent / links[0]).resolve()
        assert target == (built_site / "topics" / topic["id"] / "papers.bib").resolve()
        assert target.is_file()
        assert len(parse_bib(target.read_bytes()).entries) == topic["count"]
