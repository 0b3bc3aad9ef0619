"""Shared fixtures: the repository paths and small content folders built inline."""

from __future__ import annotations

import shutil
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
