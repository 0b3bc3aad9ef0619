"""Shared fixtures: the repository paths and small content folders built inline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
TEMPLATES = ROOT / "site_templates"

HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nMar 11\n\n"


def listing(*blocks: str, header: str = HEADER) -> str:
    """A listing text: the page header, then the blocks separated by blank lines."""
    return header + "\n\n".join(textwrap.dedent(b).strip("\n") for b in blocks) + "\n"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the real content folder (with the real mkdocs.yml and docs beside it)."""
    dest = tmp_path / "project"
    shutil.copytree(CONTENT, dest / "content")
    shutil.copytree(ROOT / "docs", dest / "docs")
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    (dest / "site_templates").symlink_to(TEMPLATES)
    return dest / "content"


@pytest.fixture
def small_content(tmp_path: Path) -> Path:
    """A tiny content folder: one listing of three papers and the real taxonomy."""
    content = tmp_path / "content"
    (content / "sources").mkdir(parents=True)
    (content / "sources" / "demo.txt").write_text(
        listing(
            "Model Merging for Multi-Task Learning",
            "We merge fine-tuned models into one multi-task model without retraining.",
            "Adaptive Model Merging with Task Vectors",
            "Task vectors let us merge models trained on different tasks; code at https://github.com/x/merge.",
            "A Survey of Multi-Label Classification",
            "We survey multi-label classification methods and benchmarks.",
        ),
        encoding="utf-8",
    )
    (content / "sources.yaml").write_text(
        "demo:\n  title: Demo listing\n  description: Three papers.\n  captured: 2025-03-11\n", encoding="utf-8"
    )
    shutil.copy(CONTENT / "topics.yaml", content / "topics.yaml")
    return content


def mkdocs_build(config: Path, site_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` as a user would; returns the finished process."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir), *extra],
        capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built once per test run with ``mkdocs build --strict``."""
    site = tmp_path_factory.mktemp("built") / "site"
    result = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stderr[-3000:]
    (site.parent / "build.log").write_text(result.stderr, encoding="utf-8")
    return site


def make_project(tmp_path: Path, content: Path, extra_config: str = "") -> Path:
    """A minimal MkDocs project around *content* using the real templates; returns mkdocs.yml."""
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True, exist_ok=True)
    (project / "docs" / "about.md").write_text("# About\n\nA test site.\n", encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            site_name: Test list
            site_url: https://example.org/list/
            docs_dir: docs
            theme:
              name: material
              custom_dir: {TEMPLATES / "overrides"}
              font: false
            plugins:
              - search
              - readinglist:
                  content_dir: {content}
                  templates_dir: {TEMPLATES}
            markdown_extensions:
              - attr_list
              - md_in_html
              - sane_lists
              - tables
              - toc:
                  permalink: true
            validation:
              omitted_files: warn
              absolute_links: warn
              unrecognized_links: warn
              anchors: warn
            nav:
              - Home: index.md
              - Topics: topics/index.md
              - Listings: lists/index.md
              - Timeline: timeline.md
              - Map: map.md
              - About: about.md
            """
        )
        + extra_config,
        encoding="utf-8",
    )
    return config
