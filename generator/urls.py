"""The one place that decides ids, source paths and URLs of generated pages.

A paper's id is the slug of its *original* title, so that a retitle by hand never moves its
page.  Source paths (``papers/<id>.md``) are what MkDocs sees; URLs (``papers/<id>/``) are
what readers and ``papers.json`` see.
"""

from __future__ import annotations

import posixpath
import unicodedata

from slugify import slugify as _slugify

MAX_SLUG = 120


def slug(text: str) -> str:
    """A stable, ASCII, lowercase slug of *text* (NFC first, so NFD copies slug the same)."""
    return _slugify(unicodedata.normalize("NFC", text), max_length=MAX_SLUG, word_boundary=True) or "untitled"


def paper_id(title: str) -> str:
    """The id of a paper with this original title."""
    return slug(title)


# The folder of the paper pages.
PAPERS = "papers"


def paper_src(pid: str) -> str:
    """Source path of a paper page."""
    return f"{PAPERS}/{pid}.md"


def paper_url(pid: str) -> str:
    """Site-relative URL of a paper page."""
    return f"{PAPERS}/{pid}/"


def topic_src(tid: str) -> str:
    """Source path of a topic page."""
    return f"topics/{tid}.md"


def topic_url(tid: str) -> str:
    """Site-relative URL of a topic page."""
    return f"topics/{tid}/"


def listing_src(lid: str) -> str:
    """Source path of a listing page."""
    return f"lists/{lid}.md"


def listing_url(lid: str) -> str:
    """Site-relative URL of a listing page."""
    return f"lists/{lid}/"


def src_to_url(src: str) -> str:
    """The directory URL MkDocs gives a source path (``a/b.md`` -> ``a/b/``, ``a/index.md`` -> ``a/``)."""
    stem = src[: -len(".md")] if src.endswith(".md") else src
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def relative_link(from_src: str, to_src: str) -> str:
    """A Markdown link target from one source page to another, as MkDocs resolves and validates it."""
    # Paths here are clean and relative ("papers/x.md"), so the common-prefix walk below
    # gives what posixpath.relpath would, without its cost on every link of every page.
    here = from_src.split("/")[:-1]
    there = to_src.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])


def relative_url(from_src: str, to_path: str) -> str:
    """A link from the *rendered* page of ``from_src`` to a site path (for raw HTML and non-page files)."""
    base = src_to_url(from_src)
    rel = _relpath(to_path or ".", base or ".")
    if to_path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel


def _relpath(path: str, start: str) -> str:
    """``posixpath.relpath(path, start)``, without its cost for the clean relative paths of
    the site (the map links to every paper)."""
    parts = [part for part in path.split("/") if part]
    start_parts = [part for part in start.split("/") if part]
    if not path or path.startswith("/") or start.startswith("/") or {".", ".."} & {*parts, *start_parts}:
        return posixpath.relpath(path, start)
    common = 0
    while common < len(parts) and common < len(start_parts) and parts[common] == start_parts[common]:
        common += 1
    return "/".join([".."] * (len(start_parts) - common) + parts[common:]) or "."
