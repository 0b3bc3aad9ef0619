"""The real site, built as a user builds it, and the guarantees of the build."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import CONTENT, ROOT, TEMPLATES, make_project, mkdocs_build

SCALEARN = "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale"


def test_real_site_builds_strict_with_every_paper(built_site: Path):
    data = json.loads((built_site / "papers.json").read_text(encoding="utf-8"))
    assert len(data["papers"]) == 295
    assert sorted(p.name for p in (built_site / "papers").iterdir()) == sorted(p["id"] for p in data["papers"])
    for paper in data["papers"]:
        page = built_site / paper["url"] / "index.html"
        assert page.is_file(), paper["url"]
    assert [s["id"] for s in data["sources"]] == ["multi-task", "pre-training", "fine-tuning", "multitask-learning", "multi-label"]
    assert sum(s["count"] for s in data["sources"]) == 352


def test_papers_json_contract_and_scalearn(built_site: Path):
    data = json.loads((built_site / "papers.json").read_text(encoding="utf-8"))
    required = {"id", "title", "url", "abstract", "date", "author_count", "upvotes", "organization", "topics", "related", "sources", "links"}
    for paper in data["papers"]:
        assert required <= set(paper)
        assert paper["topics"], paper["id"]
        assert all(set(r) >= {"id", "score"} for r in paper["related"])
        assert [r["score"] for r in paper["related"]] == sorted((r["score"] for r in paper["related"]), reverse=True)
    ids = [p["id"] for p in data["papers"]]
    assert ids == sorted(ids)
    s = next(p for p in data["papers"] if p["id"] == SCALEARN)
    assert s["title"] == "ScaLearn: Simple and Highly Parameter-Efficient Task Transfer by Learning to Scale"
    assert s["url"] == f"papers/{SCALEARN}/"
    assert (s["author_count"], s["date"], s["upvotes"], s["organization"]) == (5, "2023-10-02", None, None)
    assert s["sources"] == ["multi-task", "fine-tuning", "multitask-learning", "multi-label"]
    topic = data["topics"][0]
    assert set(topic) >= {"id", "name", "url", "parent", "count"} and topic["url"] == f"topics/{topic['id']}/"
    assert {t["id"] for t in data["topics"]} >= {t for p in data["papers"] for t in p["topics"]}


def test_scalearn_page_shows_what_is_known(built_site: Path):
    html = (built_site / "papers" / SCALEARN / "index.html").read_text(encoding="utf-8")
    assert "<h1" in html and html.count("<h1") == 1
    assert "Oct 2, 2023 · 5 authors" in html
    assert "upvote" not in html.split('class="rl-meta"')[1].split("</p>")[0]
    for listing in ("Multi-task", "Fine-tuning", "Multitask learning", "Multi-label"):
        assert f">{listing}</a>" in html
    assert 'href="https://www.semanticscholar.org/search?q=ScaLearn%3A+Simple' in html
    assert 'id="related"' in html


def test_build_log_has_one_summary_line(built_site: Path):
    log = (built_site.parent / "build.log").read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if "readinglist:" in line]
    assert len(lines) == 1
    assert "5 listings, 352 entries, 295 papers (57 merged)" in lines[0]
    assert "WARNING" not in log


_DIGEST = """
import hashlib, sys
from generator.pipeline import build_site
site = build_site(sys.argv[1], sys.argv[2])
h = hashlib.sha256()
for name, text in site.pages.items():
    h.update(name.encode()); h.update(text.encode())
for name, data in sorted(site.exports.items()):
    h.update(name.encode()); h.update(data)
print(h.hexdigest(), len(site.pages))
"""


def test_output_is_identical_whatever_the_hash_seed():
    digests = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST, str(CONTENT), str(TEMPLATES)], capture_output=True,
                             text=True, env=env, cwd=ROOT, check=True).stdout
        digests.add(out)
    assert len(digests) == 1


_PLAN_ONLY = """
import sys
from generator.pipeline import plan_site
import generator.plugin  # noqa: F401
plan = plan_site(sys.argv[1], sys.argv[2])
print(len(plan.pages), sorted(name for name in sys.modules if name.split(".")[0] in ("scipy", "sklearn")))
"""


def test_reading_and_tagging_the_content_loads_no_scipy():
    # MkDocs' own process only plans the site (its pages are made in a forked one): it is
    # spared the tenth of a second that importing scipy.sparse takes.
    out = subprocess.run([sys.executable, "-c", _PLAN_ONLY, str(CONTENT), str(TEMPLATES)], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout.split(maxsplit=1)
    assert int(out[0]) > 300 and out[1].strip() == "[]"


def test_nothing_is_written_into_docs_dir(built_site: Path):
    assert sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*")) == ["about.md"]


def test_content_error_stops_the_build_without_traceback(tmp_path: Path, small_content: Path):
    (small_content / "overrides.yaml").write_text("model-merging-for-multi-task-learnin:\n  featured: yes\n", encoding="utf-8")
    result = mkdocs_build(make_project(tmp_path, small_content), tmp_path / "site")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    name = (small_content / "overrides.yaml").as_posix()
    assert f"{name}:1:1: unknown paper id 'model-merging-for-multi-task-learnin'; did you mean 'model-merging-for-multi-task-learning'?" in result.stderr
    assert f"{name}:2:13: 'model-merging-for-multi-task-learnin': featured must be true or false, not 'yes'" in result.stderr
    assert not (tmp_path / "site" / "papers.json").exists()


def test_serve_pages_keep_their_mtime_when_unchanged(tmp_path: Path):
    from generator.plugin import write_if_changed

    page = write_if_changed(tmp_path / "papers" / "a.md", b"# A\n")
    os.utime(page, (1_000_000, 1_000_000))
    write_if_changed(page, b"# A\n")
    assert page.stat().st_mtime == 1_000_000  # unchanged: `mkdocs serve --dirty` skips it
    write_if_changed(page, b"# A, edited\n")
    assert page.read_bytes() == b"# A, edited\n" and page.stat().st_mtime > 1_000_000


def test_listings_are_parsed_once_per_content(small_content: Path, monkeypatch):
    from generator import sources
    from generator.diagnostics import Diagnostics

    calls = []
    real = sources.parse_listing
    monkeypatch.setattr(sources, "parse_listing", lambda *a: calls.append(1) or real(*a))
    first = sources.load_listings(small_content, Diagnostics())
    again = sources.load_listings(small_content, Diagnostics())
    assert len(calls) == 1 and [e.title for e in again[0].entries] == [e.title for e in first[0].entries]
    listing_file = small_content / "sources" / "demo.txt"
    listing_file.write_text(listing_file.read_text(encoding="utf-8") + "\nOne More Title\n\nAbstract.\n", encoding="utf-8")
    changed = sources.load_listings(small_content, Diagnostics())
    assert len(calls) == 2 and changed[0].entries[-1].title == "One More Title"


def test_every_paper_leads_somewhere(built_site: Path):
    data = json.loads((built_site / "papers.json").read_text(encoding="utf-8"))
    for paper in data["papers"]:
        related = paper["related"]
        assert len(related) >= 3, paper["id"]
        weak = [r["weak"] for r in related]
        assert weak == sorted(weak), paper["id"]  # strong matches first
        assert all(r["why"] for r in related), paper["id"]
    short = next(p for p in data["papers"] if any(r["weak"] for r in p["related"]) and not p["related"][0]["weak"])
    html = (built_site / short["url"] / "index.html").read_text(encoding="utf-8")
    strong = sum(1 for r in short["related"] if not r["weak"])
    assert "Less closely related:" in html and f'<ol start="{strong + 1}">' in html


def test_topics_overview_nests_sub_topics(built_site: Path):
    html = (built_site / "topics" / "index.html").read_text(encoding="utf-8")
    data = json.loads((built_site / "papers.json").read_text(encoding="utf-8"))
    child = next(t for t in data["topics"] if t["parent"])
    parent = next(t for t in data["topics"] if t["id"] == child["parent"])
    # The child's link sits in a list nested inside the parent's list item.
    after_parent = html.split(f'href="{parent["id"]}/"', 1)[1]
    nested = after_parent.split("</li>", 1)[0]
    assert "<ul>" in nested and f'href="{child["id"]}/"' in after_parent.split("</ul>", 1)[0]


def _site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _sequential(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    out = config.with_name("mkdocs-sequential.yml")
    out.write_text(re.sub(r"(\n( +)templates_dir: [^\n]*)", r"\1\n\2parallel: false", text, count=1), encoding="utf-8")
    assert out.read_text(encoding="utf-8") != text
    return out


def test_pages_made_beside_mkdocs_give_the_same_site(tmp_path: Path, small_content: Path):
    config = make_project(tmp_path, small_content)
    beside = mkdocs_build(config, tmp_path / "beside")
    alone = mkdocs_build(_sequential(config), tmp_path / "alone")
    assert beside.returncode == 0 and alone.returncode == 0, beside.stderr + alone.stderr
    a, b = _site_files(tmp_path / "beside"), _site_files(tmp_path / "alone")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []
    assert b'"id":"model-merging-for-multi-task-learning"' in a["papers.json"]
    for result in (beside, alone):
        lines = [line for line in result.stderr.splitlines() if "readinglist:" in line]
        assert len(lines) == 1 and "; map: " in lines[0], result.stderr


def test_template_mistake_names_file_and_line_in_both_modes(tmp_path: Path, small_content: Path):
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    paper = templates / "paper.md.j2"
    lines = paper.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if text.startswith("# {{ paper.title }}"))
    lines[line] = "# {{ paper.no_such_field }}\n"
    paper.write_text("".join(lines), encoding="utf-8")
    config = make_project(tmp_path, small_content)
    config.write_text(config.read_text(encoding="utf-8").replace(f"templates_dir: {TEMPLATES}", f"templates_dir: {templates}"),
                      encoding="utf-8")
    for cfg in (config, _sequential(config)):
        result = mkdocs_build(cfg, tmp_path / "site")
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert f"{paper.as_posix()}:{line + 1}: template error: 'generator.models.Paper object' has no attribute 'no_such_field'" in result.stderr


def test_files_are_made_in_the_order_the_plan_names_them(small_content: Path):
    from generator.pipeline import collect, plan_site, produce

    plan = plan_site(small_content, TEMPLATES)
    made, notes = collect(produce(plan, parallel=False))
    # The plugin registers files by the plan's names before any is made.
    assert list(made) == plan.pages + plan.assets + plan.exports
    assert made["assets/map-base.svg"].startswith(b"<svg") and made["papers.json"].startswith(b"{")
    assert notes and notes[0].startswith("map: ")
