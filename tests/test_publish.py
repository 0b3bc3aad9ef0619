"""Publishing and the maintainer's workflow: GitHub workflows, ``add-listing``,
``write`` for other renderers (Zensical), and the README guide's examples."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.add_listing import AddListingError, add_listing
from generator.check import run_check
from generator.cli import main
from generator.diagnostics import Diagnostics
from generator.pipeline import build_site
from generator.sources import load_listings
from generator.writer import MANIFEST, WriteError, write_files, write_site

from .conftest import HEADER, ROOT, TEMPLATES, listing

WORKFLOWS = ROOT / ".github" / "workflows"
SCALEARN = "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale"
TODAY = dt.date(2025, 4, 1)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* with its bytes, to show that nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- GitHub Actions


def load_workflow(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(job: dict) -> list[dict]:
    return job["steps"]


def uses(job: dict, action: str) -> dict:
    found = [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}"
    return found[0]


def runs(job: dict) -> list[str]:
    return [s["run"] for s in steps(job) if "run" in s]


def test_ci_workflow_runs_build_and_tests_on_push_and_pull_request():
    doc = load_workflow("ci.yml")
    assert {"push", "pull_request"} <= set(doc["on"])
    [job] = doc["jobs"].values()
    assert uses(job, "actions/checkout")
    assert str(uses(job, "actions/setup-python")["with"]["python-version"]) == "3.11"
    commands = runs(job)
    assert 'pip install -e ".[test]"' in commands
    assert commands.index("mkdocs build --strict") < commands.index("pytest")
    # GitHub sets CI=true, under which the browser tests fail without a browser.
    assert job["env"]["READINGLIST_BROWSER"] == "/usr/bin/google-chrome"


def test_pages_workflow_builds_strict_and_deploys_with_pages_actions():
    doc = load_workflow("pages.yml")
    assert "push" in doc["on"]
    assert doc["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert doc["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = doc["jobs"]["build"], doc["jobs"]["deploy"]
    assert uses(build, "actions/checkout") and uses(build, "actions/configure-pages")
    assert str(uses(build, "actions/setup-python")["with"]["python-version"]) == "3.11"
    [command] = [c for c in runs(build) if c.startswith("mkdocs build")]
    assert command == "mkdocs build --strict --site-dir site"
    assert uses(build, "actions/upload-pages-artifact")["with"]["path"] == "site"
    assert deploy["needs"] == "build"
    step = uses(deploy, "actions/deploy-pages")
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.%s.outputs.page_url }}" % step["id"]}


def test_built_html_stays_out_of_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"/site/", "/build/"} <= set(ignored)


# -- readinglist add-listing

NEW_LISTING = listing(
    "Model Merging for Multi-Task Learning",
    "We merge fine-tuned models into one multi-task model without retraining.",
    'Agents That Plan: "Tools" & #Hashtags',
    "Agents plan with tools.",
    "  • 3 authors\n·\nNov 13 7",
    "A Title Without Abstract",
    header=HEADER.replace("Mar 11", "Mar 20"),
)


@pytest.fixture
def workdir(small_content: Path, monkeypatch) -> Path:
    """Run from the folder holding ``content/``, as a maintainer would."""
    monkeypatch.chdir(small_content.parent)
    (small_content.parent / "new.txt").write_text(NEW_LISTING, encoding="utf-8")
    return small_content.parent


def add(argv: list[str], capsys) -> tuple[int, str, str]:
    return run(["add-listing", *argv], capsys)


def test_add_listing_copies_registers_and_reports(workdir, capsys):
    before = (workdir / "content" / "sources.yaml").read_bytes()
    code, out, err = add(["new.txt", "--title", "Agents: tools & plans", "--captured", "2025-03-20",
                          "--description", 'Found by searching "agents" # not a comment'], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "Added listing 'agents-tools-plans': copied to content/sources/agents-tools-plans.txt, "
        "described in content/sources.yaml (captured 2025-03-20).\n"
        "3 entries, 3 papers: 2 new, 1 merged with papers already on the list:\n"
        "  Model Merging for Multi-Task Learning (also in demo)\n"
        "1 warning:\n"
        "  content/sources/agents-tools-plans.txt:23: paper 'A Title Without Abstract' has no abstract "
        "(the listing ends after its title)\n"
        "Preview with `mkdocs serve`; `readinglist check` validates all content.\n"
    )
    assert (workdir / "content" / "sources" / "agents-tools-plans.txt").read_text(encoding="utf-8") == NEW_LISTING
    after = (workdir / "content" / "sources.yaml").read_bytes()
    assert after.startswith(before)  # the hand-edited part is untouched, byte for byte
    listings = {x.id: x for x in load_listings(Path("content"), Diagnostics())}
    new = listings["agents-tools-plans"]
    assert (new.title, new.description, new.captured) == (
        "Agents: tools & plans", 'Found by searching "agents" # not a comment', dt.date(2025, 3, 20))
    assert new.entries[1].date == dt.date(2024, 11, 13)  # the year comes from --captured
    assert run_check(Path("content")).errors == []


def test_add_listing_keeps_comments_and_a_missing_final_newline(workdir, capsys):
    sources = workdir / "content" / "sources.yaml"
    sources.write_text("# Listings, described by hand.\ndemo:   # the first one\n  title: Demo listing\n"
                       "  captured: 2025-03-11   # no newline after this comment", encoding="utf-8")
    code, _, _ = add(["new.txt", "--title", "Agents", "--captured", "2025-03-20"], capsys)
    assert code == 0
    assert sources.read_text(encoding="utf-8") == (
        "# Listings, described by hand.\ndemo:   # the first one\n  title: Demo listing\n"
        "  captured: 2025-03-11   # no newline after this comment\n"
        'agents:\n  title: "Agents"\n  captured: 2025-03-20\n'
    )


def test_add_listing_registers_a_file_already_in_place(workdir, capsys):
    shutil.copy(workdir / "new.txt", workdir / "content" / "sources" / "agents.txt")
    code, out, _ = add(["content/sources/agents.txt", "--title", "Agents", "--captured", "2025-03-20"], capsys)
    assert code == 0
    assert out.startswith("Added listing 'agents': kept at content/sources/agents.txt, described in content/sources.yaml")


REFUSALS = [
    (["header.txt", "--title", "Headers", "--captured", "2025-03-20"],
     ["header.txt holds no papers (a Daily Papers listing has, per paper, a title line and an abstract line, "
      "blocks separated by blank lines)"]),
    (["empty.txt", "--title", "Empty", "--captured", "2025-03-20"], ["empty.txt is empty"]),
    (["binary.txt", "--title", "Binary", "--captured", "2025-03-20"],
     ["binary.txt is a binary file, not text copied from a Daily Papers page"]),
    (["latin1.txt", "--title", "Latin", "--captured", "2025-03-20"],
     ["latin1.txt is not UTF-8 text (byte 4 is not valid); save it as UTF-8"]),
    (["missing.txt", "--title", "Missing", "--captured", "2025-03-20"], ["missing.txt does not exist"]),
    (["new.txt", "--title", "Demo", "--captured", "2025-03-20"],
     ["the name 'demo' is taken (content/sources.yaml already describes it; content/sources/demo.txt exists); "
      "choose another --title"]),
    (["new.txt", "--title", "Old_Notes", "--captured", "2025-03-20"],
     ["the name 'old-notes' is taken (content/sources/Old Notes.txt has that id); choose another --title"]),
    (["new.txt", "--title", "Agents", "--captured", "2025-02-30"],
     ["--captured must be a real date written YYYY-MM-DD such as 2025-03-11, not '2025-02-30'"]),
    (["new.txt", "--title", "Agents", "--captured", "20.3.2025"],
     ["--captured must be a real date written YYYY-MM-DD such as 2025-03-11, not '20.3.2025'"]),
    (["new.txt", "--title", "   ", "--captured", "2025-03-20"], ["--title must not be empty"]),
    (["new.txt", "--title", "Agents", "--captured", "2025-03-20", "--content", "contnet"],
     ["the content folder contnet does not exist; give it with --content"]),
    (["content/sources/Old Notes.txt", "--title", "Agents", "--captured", "2025-03-20"],
     ["content/sources/Old Notes.txt is already inside content/sources under another name; "
      "rename it to agents.txt (or move it out of that folder) and run again"]),
]


@pytest.mark.parametrize(("argv", "problems"), REFUSALS, ids=[" ".join(r[0]) for r in REFUSALS])
def test_add_listing_refuses_and_writes_nothing(argv, problems, workdir, capsys):
    (workdir / "header.txt").write_text(HEADER, encoding="utf-8")
    (workdir / "empty.txt").write_text(" \n\n", encoding="utf-8")
    (workdir / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (workdir / "latin1.txt").write_bytes("Caf\u00e9 au lait\n\nAbstract.\n".encode("latin-1"))
    (workdir / "content" / "sources" / "Old Notes.txt").write_text(NEW_LISTING, encoding="utf-8")
    before = snapshot(workdir)
    code, out, err = add(argv, capsys)
    assert (code, out) == (1, "")
    assert err == "\n".join([f"readinglist add-listing: cannot add {argv[0]}:", *[f"  {p}" for p in problems],
                             "Nothing was written.", ""])
    assert snapshot(workdir) == before


def test_add_listing_refuses_a_capture_date_in_the_future(workdir):
    with pytest.raises(AddListingError) as exc:
        add_listing(Path("new.txt"), "Agents", "2025-04-02", content_dir=Path("content"), today=TODAY)
    assert exc.value.problems == ["--captured 2025-04-02 is in the future; give the day the page was copied"]


def test_add_listing_refuses_when_sources_yaml_is_broken(workdir, capsys):
    (workdir / "content" / "sources.yaml").write_text("demo:\n  title: [unclosed\n", encoding="utf-8")
    before = snapshot(workdir)
    code, _, err = add(["new.txt", "--title", "Agents", "--captured", "2025-03-20"], capsys)
    assert code == 1
    assert "  fix content/sources.yaml first: content/sources.yaml:3:1: invalid YAML:" in err
    assert snapshot(workdir) == before


def test_add_listing_warns_about_a_paper_added_by_hand(workdir, capsys):
    (workdir / "content" / "papers.yaml").write_text(
        "- title: Agents That Plan Tools Hashtags\n  abstract: Added by hand first.\n", encoding="utf-8")
    (workdir / "new.txt").write_text(listing("Agents That Plan: Tools & Hashtags", "Agents plan."), encoding="utf-8")
    code, out, _ = add(["new.txt", "--title", "Agents", "--captured", "2025-03-11"], capsys)
    assert code == 0
    assert out.splitlines()[-2] == (
        "  content/papers.yaml:1:3: 'agents-that-plan-tools-hashtags' is also added by hand here and now comes "
        "from this listing; remove it from papers.yaml (keep any hand edits in overrides.yaml) or the build fails")


# -- readinglist write


@pytest.fixture
def small_site(small_content: Path):
    return build_site(small_content, TEMPLATES)


def test_write_puts_every_generated_file_and_a_manifest(small_site, tmp_path, capsys, small_content):
    out = tmp_path / "out"
    code, stdout, _ = run(["write", "--content", str(small_content), "--templates", str(TEMPLATES), "--out", str(out)],
                          capsys)
    total = len(small_site.pages) + len(small_site.assets) + len(small_site.exports)
    assert (code, stdout) == (0, f"{out.as_posix()}: {total} written, 0 unchanged, 0 removed\n")
    for src, markdown in small_site.pages.items():
        assert (out / src).read_text(encoding="utf-8") == markdown
    for name, data in {**small_site.assets, **small_site.exports}.items():
        assert (out / name).read_bytes() == data
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"] == sorted([*small_site.pages, *small_site.assets, *small_site.exports])


def test_second_write_changes_nothing(small_site, tmp_path):
    out = tmp_path / "out"
    first = write_site(small_site, out)
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, (1_000_000, 1_000_000))
    second = write_site(small_site, out)
    assert (second.written, second.removed) == ([], [])
    assert second.unchanged == first.written
    assert {p.stat().st_mtime for p in out.rglob("*") if p.is_file()} == {1_000_000}


def test_write_updates_changed_and_removes_gone_files_but_not_foreign_ones(small_content, tmp_path):
    out = tmp_path / "out"
    extra = small_content / "sources" / "extra.txt"
    extra.write_text(listing("Protein Language Models at Scale", "We train protein language models."), encoding="utf-8")
    write_site(build_site(small_content, TEMPLATES), out)
    assert (out / "lists" / "extra.md").is_file()
    (out / "about.md").write_text("# About\n", encoding="utf-8")
    (out / "papers" / "my-notes.txt").write_text("mine\n", encoding="utf-8")

    extra.unlink()
    result = write_site(build_site(small_content, TEMPLATES), out)
    assert {"lists/extra.md", "papers/protein-language-models-at-scale.md"} <= set(result.removed)
    assert not (out / "lists" / "extra.md").exists()
    assert "lists/index.md" in result.written and "papers.json" in result.written
    assert (out / "about.md").read_text(encoding="utf-8") == "# About\n"
    assert (out / "papers" / "my-notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert "lists/extra.md" not in json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]


def test_write_removes_folders_it_emptied_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    write_files({"a/b/c.md": b"c", "a/d.md": b"d", "keep/e.md": b"e"}, out)
    (out / "keep" / "mine.md").write_text("mine", encoding="utf-8")
    result = write_files({"a/d.md": b"d2"}, out)
    assert (result.written, result.unchanged, result.removed) == (["a/d.md"], [], ["a/b/c.md", "keep/e.md"])
    assert not (out / "a" / "b").exists()
    assert (out / "keep" / "mine.md").is_file()
    assert snapshot(out) == {MANIFEST: snapshot(out)[MANIFEST], "a/d.md": b"d2", "keep/mine.md": b"mine"}


def test_write_never_overwrites_a_file_it_did_not_write(small_site, small_content, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.md").write_text("# My own home page\n", encoding="utf-8")
    before = snapshot(out)
    code, stdout, err = run(
        ["write", "--content", str(small_content), "--templates", str(TEMPLATES), "--out", str(out)], capsys)
    assert (code, stdout) == (1, "")
    assert err == (f"readinglist write: {out} already has files that readinglist did not write but would "
                   "overwrite: index.md; move them away or choose an empty --out folder\n")
    assert snapshot(out) == before


@pytest.mark.parametrize("manifest", ['{"files": ["x.md"]}', "not json", '{"kind": "readinglist generated files", "files": ["../outside.md"]}'])
def test_write_refuses_a_manifest_it_did_not_write(manifest, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(manifest, encoding="utf-8")
    (tmp_path / "outside.md").write_text("keep", encoding="utf-8")
    with pytest.raises(WriteError):
        write_files({"a.md": b"a"}, out)
    assert (tmp_path / "outside.md").read_text(encoding="utf-8") == "keep"
    assert not (out / "a.md").exists()


# -- the README guide


def guide() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("<!-- maintainer-guide:start -->")[1].split("<!-- maintainer-guide:end -->")[0]


def code_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", guide(), flags=re.S)


def block(lang: str, containing: str) -> str:
    [found] = [b for b in code_blocks(lang) if containing in b]
    return found


def test_guide_examples_give_valid_content(content_copy: Path, monkeypatch, capsys):
    """The documented add-listing command, overrides, papers.yaml and topic are all valid together."""
    monkeypatch.chdir(content_copy.parent)
    # A listing that also holds the paper the guide's duplicate_of example merges away.
    Path("agents.txt").write_text(listing(
        "4M-21: Any-to-Any Vision Model",
        "One model for tens of tasks and modalities.",
        "Planning Agents for Multi-Task Robots",
        "Agents plan over many tasks.",
        header=HEADER.replace("Mar 11", "Mar 20"),
    ), encoding="utf-8")
    command = shlex.split(block("bash", "readinglist add-listing").replace("\\\n", " "))
    assert command[:2] == ["readinglist", "add-listing"]
    code, _, err = add(["agents.txt", *command[3:]], capsys)
    assert (code, err) == (0, "")
    by_hand = yaml.safe_load(block("yaml", "captured:"))
    assert yaml.safe_load(Path("content/sources.yaml").read_text(encoding="utf-8"))["llm-agents"] == by_hand["llm-agents"]

    Path("content/overrides.yaml").write_text(block("yaml", "duplicate_of:"), encoding="utf-8")
    Path("content/papers.yaml").write_text(block("yaml", "- title:"), encoding="utf-8")
    with Path("content/topics.yaml").open("a", encoding="utf-8") as f:
        f.write("\n" + block("yaml", "- id:"))
    report = run_check(Path("content"))
    assert (report.errors, report.warnings) == ([], [])
    site = build_site(Path("content"), TEMPLATES)
    by_id = {p.id: p for p in site.papers}
    merged = by_id["4m-21-an-any-to-any-vision-model-for-tens-of-tasks-and-modalities"]
    assert merged.aliases == ["4m-21-any-to-any-vision-model"] and "llm-agents" in merged.sources
    assert by_id["a-large-scale-search-dataset-for-unbiased-learning-to-rank"].hidden
    assert by_id["attention-is-all-you-need"].hand_added
    assert site.view.topic_count("video") >= 2


def test_guide_documents_every_overrides_field():
    from generator.overrides import FIELDS

    example = yaml.safe_load(block("yaml", "duplicate_of:"))
    used = {key for fields in example.values() for key in fields}
    assert used == set(FIELDS)
    assert {"code", "project", "pdf"} == set(next(f["links"] for f in example.values() if "links" in f))


def zensical_available() -> bool:
    return shutil.which("zensical") is not None and importlib.util.find_spec("zensical") is not None


@pytest.mark.skipif(not zensical_available(), reason="Zensical is not installed; install it with: pip install zensical")
def test_guide_zensical_recipe_builds_the_site(content_copy: Path):
    project = content_copy.parent
    (project / "zensical.yml").write_text(block("yaml", "INHERIT:"), encoding="utf-8")
    script = "\n".join(line for line in block("bash", "zensical build").splitlines() if not line.startswith("pip "))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    site = project / "build" / "site"
    data = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    assert len(data["papers"]) == 295
    assert (site / "papers" / SCALEARN / "index.html").is_file()
    assert (site / "about" / "index.html").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "assets/readinglist.css" in home and 'type="application/atom+xml"' in home
    page = site / data["topics"][0]["url"] / "index.html"
    [bib] = re.findall(r'href="([^"]*papers\.bib)"', page.read_text(encoding="utf-8"))
    assert (page.parent / bib).resolve() == (page.parent / "papers.bib").resolve()
    assert (page.parent / "papers.bib").is_file()
