"""Data exports: ``papers.json`` (the contract in DESIGN.md), feeds, CSV and BibTeX.

Exports are built from the same gathered content as the pages and are deterministic:
sorted by id, no timestamps other than the papers' own dates.
"""

from __future__ import annotations

import csv
import functools
import heapq
import io
import itertools
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import orjson
from markupsafe import Markup

from .models import Paper, Site, Topic

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import BuildOptions
    from .views import SiteView


def paper_record(p: Paper) -> dict[str, Any]:
    """One paper as it appears in ``papers.json``."""
    return {
        "id": p.id,
        "title": p.title,
        "url": p.url,
        "abstract": p.abstract,
        "date": p.date.isoformat() if p.date else None,
        "author_count": p.author_count,
        "authors": list(p.authors),
        "upvotes": p.upvotes,
        "upvotes_as_of": p.upvotes_as_of.isoformat() if p.upvotes_as_of else None,
        "organization": p.organization,
        "arxiv": p.arxiv,
        "topics": [t.topic for t in p.topics],
        "topic_reasons": {t.topic: t.reason for t in p.topics},
        "related": [{"id": r.id, "score": r.score, "why": list(r.why), "weak": r.weak} for r in p.related],
        "backlinks": list(p.backlinks),
        "sources": list(p.sources),
        "links": {k: list(v) for k, v in sorted(p.links.items()) if v},
        "overridden": list(p.overridden),
        "hand_added": p.hand_added,
        "aliases": list(p.aliases),
        "status": p.status,
        "featured": p.featured,
        "note": p.note,
    }


def _site_index(site: Site, view: "SiteView") -> dict[str, list[dict[str, Any]]]:
    # The parts of papers.json after the papers: the taxonomy and the listings.
    return {
        "topics": [
            {
                "id": t.id,
                "name": t.name,
                "url": t.url,
                "parent": t.parent,
                "count": view.topic_count(t.id),
                "description": t.description,
                "aliases": list(t.aliases),
            }
            for t in site.topics
        ],
        "sources": [
            {
                "id": listing.id,
                "title": listing.title,
                "url": listing.url,
                "count": len(listing.entries),
                "description": listing.description,
                "captured": listing.captured.isoformat() if listing.captured else None,
            }
            for listing in site.listings
        ],
    }


def _json_bytes(value: Any) -> bytes:
    # orjson writes compact UTF-8 JSON straight to bytes, four times as fast as the
    # standard library's encoder: papers.json is tens of MB on a large list.
    return orjson.dumps(value)


def _json_rows(items: Iterable[Any]) -> list[bytes]:
    # Each item is encoded as soon as it is made and then dropped: holding 10,000 paper
    # records at once costs more in garbage collection than encoding them.
    return [_json_bytes(item) for item in items]


def dumps(data: Any) -> bytes:
    """Deterministic JSON bytes, one record per line: readable in a diff, and written by
    a fast encoder (an indented dump of 10,000 papers takes seconds)."""
    return _json_document({key: _json_rows(value) if isinstance(value, list) else _json_bytes(value)
                           for key, value in data.items()})


def _json_document(fields: dict[str, bytes | list[bytes]]) -> bytes:
    # Lays out encoded values: a list (of encoded rows) one item a line, else on the key's
    # line.  Rows are UTF-8 already (cheaper than encoding one huge string whose non-ASCII
    # characters widen all of it) and the pieces are joined once: the file is tens of MB.
    pieces = [b"{\n "]
    separator = b""
    for key, value in fields.items():
        pieces += [separator, _json_bytes(key), b": "]
        separator = b",\n "
        if not isinstance(value, list):
            pieces.append(value)
        elif not value:
            pieces.append(b"[]")
        else:
            pieces.append(b"[\n  ")
            for row in value:
                pieces += [row, b",\n  "]
            pieces[-1] = b"\n ]"
    pieces.append(b"\n}\n")
    return b"".join(pieces)


def _papers_json_bytes(site: Site, view: "SiteView", papers: list[Paper]) -> bytes:
    """``papers.json`` with *papers* (the visible ones, or one topic's) as its papers: the
    bytes of ``dumps`` of that document, without holding every record at once."""
    fields: dict[str, bytes | list[bytes]] = {"papers": _json_rows(paper_record(p) for p in papers)}
    fields.update((key, _json_rows(value)) for key, value in _site_index(site, view).items())
    return _json_document(fields)


_BIB_SPECIAL = re.compile(r"[{}\\#$%&_^~]")
_BIB_MACROS = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_BIB_LONE_BRACES = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
# What each special character becomes: with a backslash (or as a macro) when the text's
# braces pair up, and with the braces too as macros when they do not.
_BIB_NESTED = {c: _BIB_MACROS.get(c, "\\" + c) for c in "{}\\#$%&_^~"}
_BIB_LONE = {**_BIB_NESTED, **_BIB_LONE_BRACES}
_BRACES = re.compile(r"[{}]")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_AND = re.compile(r"\band\b", re.IGNORECASE)


def _braces_nest(text: str) -> bool:
    depth = 0
    for c in _BRACES.findall(text):
        depth += 1 if c == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def bibtex_escape(text: str) -> str:
    """Text for a BibTeX field value in braces: LaTeX specials escaped, braces balanced.

    BibTeX counts braces even after a backslash, so ``\\{`` is only safe when the text's
    braces pair up; otherwise every brace is written as a macro that has none.
    """
    text = " ".join(text.split())  # a line break inside a value means nothing to BibTeX
    if not _BIB_SPECIAL.search(text):
        return text  # most titles and names
    table = _BIB_NESTED if _braces_nest(text) else _BIB_LONE
    return _BIB_SPECIAL.sub(lambda m: table[m[0]], text)


def _base_key(p: Paper) -> str:
    words = [w for w in p.id.split("-") if w] or ["paper"]
    year = str(p.date.year) if p.date else "nd"
    return f"{words[0][:24]}{year}{''.join(w[0] for w in words[1:4])}"


def _letters(n: int) -> str:
    # 0 -> a, 25 -> z, 26 -> aa: suffixes that never run out.
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _unique_keys(papers: list[Paper]) -> dict[str, str]:
    """A citation key per paper id; clashes get letter suffixes, in id order."""
    ordered = sorted(papers, key=lambda p: p.id)
    base = {p.id: _base_key(p) for p in ordered}
    natural = set(base.values())
    taken: set[str] = set()
    keys: dict[str, str] = {}
    for p in ordered:
        key = base[p.id]
        if key in taken:
            # A suffixed key must not equal another paper's plain key, or it would clash later.
            key = next(k for k in (key + _letters(i) for i in itertools.count()) if k not in taken and k not in natural)
        taken.add(key)
        keys[p.id] = key
    return keys


# Keys are decided once per site (over all visible papers), so a paper has the same key
# on its page, in papers.bib and in every topic's papers.bib.
_SITE_KEYS: "weakref.WeakKeyDictionary[Any, dict[str, str]]" = weakref.WeakKeyDictionary()


def _site_keys(view: "SiteView") -> dict[str, str]:
    keys = _SITE_KEYS.get(view)
    if keys is None:
        keys = _SITE_KEYS[view] = _unique_keys(list(view.visible))
    return keys


def bibtex_key(p: Paper, view: "SiteView | None" = None) -> str:
    """The citation key of *p*: first word of its id, year (or ``nd``), initials of the next
    words, plus a letter when that clashes with another paper of the site *view*."""
    if view is not None:
        key = _site_keys(view).get(p.id)
        if key:
            return key
    return _base_key(p)


def _bibtex_name(name: str) -> str:
    # Braces keep a name with "and" in it (an organisation) from splitting into two authors.
    escaped = bibtex_escape(name)
    return "{" + escaped + "}" if _AND.search(name) else escaped


def _bibtex_url(url: str) -> str:
    # The url package reads the value verbatim; only braces and backslashes could break it.
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def bibtex_entry(p: Paper, view: "SiteView | None" = None, site_url: str = "", key: str | None = None) -> str:
    """A ``@misc`` BibTeX entry with what is known about the paper: title, authors, year and
    month, arXiv id, a URL (arXiv, else the paper's PDF, project or code link, else its page
    on the published list) and its topics as keywords."""
    fields: list[tuple[str, str]] = [("title", "{{" + bibtex_escape(p.title) + "}}")]
    if p.authors:
        fields.append(("author", "{" + " and ".join(_bibtex_name(a) for a in p.authors) + "}"))
    if p.date:
        fields.append(("year", "{" + str(p.date.year) + "}"))
        fields.append(("month", _MONTHS[p.date.month - 1]))  # BibTeX's month macro, not a string
    if p.arxiv:
        fields += [("eprint", "{" + bibtex_escape(p.arxiv) + "}"), ("archiveprefix", "{arXiv}")]
    url = next((p.links[kind][0] for kind in ("pdf", "project", "code") if p.links.get(kind)), None)
    if p.arxiv:
        url = f"https://arxiv.org/abs/{p.arxiv}"
    elif url is None and site_url:
        url = site_url.rstrip("/") + "/" + p.url
    if url:
        fields.append(("url", "{" + _bibtex_url(url) + "}"))
    if view is not None and p.topics:
        fields.append(("keywords", "{" + bibtex_escape(", ".join(view.topic_name(t.topic) for t in p.topics)) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{key or bibtex_key(p, view)},\n{body}\n}}"


FEED_SIZE = 100  # newest papers per feed; readers subscribe for what is new


@functools.lru_cache(maxsize=4)
def _xml_environment(templates_dir: str) -> jinja2.Environment:
    # One environment per templates folder: a feed per topic must not recompile the template.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _absolute(site_url: str, path: str) -> str:
    return (site_url.rstrip("/") + "/" + path) if site_url else path


def atom_feed(papers: list[Paper], view: "SiteView", options: "BuildOptions", templates_dir: Path,
              *, title: str, subtitle: str, path: str, page_path: str) -> bytes:
    """An Atom feed of the newest *papers* (already sorted newest first).

    Dates come from the papers (or their listing's capture date), never from the clock, so
    the same content gives the same feed.
    """
    return _Feeds(papers, view, options, templates_dir).feed(papers, title=title, subtitle=subtitle, path=path,
                                                             page_path=page_path)


@dataclass
class _FeedEntry:
    """What ``feed.xml.j2`` shows of one paper."""

    title: str
    id: str
    url: str
    updated: str
    published: str | None
    authors: list[str]
    topics: list[Topic]
    summary: str


class _Feeds:
    """The Atom feeds of one build, each listing some of *papers*.  A paper's place in the
    order and its rendered entry are the same in every feed that lists it (the site's and
    each of its topics'), so each is worked out once per paper."""

    def __init__(self, papers: list[Paper], view: "SiteView", options: "BuildOptions", templates_dir: Path):
        from .views import newest_first  # views imports this module

        self.view = view
        self.options = options
        self.template = _xml_environment(str(templates_dir)).get_template("feed.xml.j2")
        # Newest first by the date each entry carries (a paper's own date, else the day its
        # listing was captured), as feed readers sort them.
        def carried(p: Paper) -> int:
            day = p.date or _captured(p, view)
            return -day.toordinal() if day else 0

        ranked = sorted(papers, key=lambda p: (carried(p), newest_first(p)))
        self._rank = {p.id: i for i, p in enumerate(ranked)}
        self._entries: dict[str, tuple[str, Markup]] = {}  # paper id -> (updated stamp, XML)

    def _entry(self, p: Paper) -> tuple[str, Markup]:
        made = self._entries.get(p.id)
        if made is None:
            site_url = self.options.site_url
            day = p.date or _captured(p, self.view)
            stamp = f"{day.isoformat()}T00:00:00Z" if day else "1970-01-01T00:00:00Z"
            url = _absolute(site_url, p.url)
            entry = _FeedEntry(
                title=p.title,
                id=url if site_url else f"urn:readinglist:{p.id}",
                url=url,
                updated=stamp,
                published=f"{p.date.isoformat()}T00:00:00Z" if p.date else None,
                authors=list(p.authors),
                topics=[self.view.topic_by_id[t.topic] for t in p.topics if t.topic in self.view.topic_by_id],
                summary=p.abstract,
            )
            made = self._entries[p.id] = (stamp, self.template.module.entry(entry))
        return made

    def feed(self, papers: list[Paper], *, title: str, subtitle: str, path: str, page_path: str) -> bytes:
        """The feed of the newest :data:`FEED_SIZE` of *papers*, in any order."""
        site_url = self.options.site_url
        newest = heapq.nsmallest(FEED_SIZE, papers, key=lambda p: self._rank[p.id])
        entries = [self._entry(p) for p in newest]
        updated = max((stamp for stamp, _ in entries), default="1970-01-01T00:00:00Z")
        xml = self.template.render(
            title=title, subtitle=subtitle, entries=[xml for _, xml in entries], updated=updated,
            author=self.options.site_name,
            feed_id=_absolute(site_url, path) if site_url else f"urn:readinglist:{path}",
            self_url=_absolute(site_url, path), page_url=_absolute(site_url, page_path),
        )
        return xml.encode("utf-8")


def _captured(p: Paper, view: "SiteView"):
    days = [view.listing_by_id[s].captured for s in p.sources if s in view.listing_by_id and view.listing_by_id[s].captured]
    return min(days) if days else None


CSV_COLUMNS = (
    "id", "title", "date", "topics", "url", "code", "project", "pdf", "arxiv",
    "authors", "author_count", "organization", "upvotes", "sources",
)


def papers_csv(papers: list[Paper], view: "SiteView") -> bytes:
    """One row per paper for spreadsheets, with the columns of :data:`CSV_COLUMNS`.

    Lists (topic ids, links, authors, listing ids) are joined with ``"; "`` inside a cell,
    so the file keeps one row per paper; unknown values are empty cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in papers:
        writer.writerow([
            p.id, p.title, p.date.isoformat() if p.date else "",
            "; ".join(p.topic_ids), p.url,
            "; ".join(p.links.get("code", [])), "; ".join(p.links.get("project", [])),
            "; ".join(p.links.get("pdf", [])), p.arxiv or "",
            "; ".join(p.authors), "" if p.author_count is None else p.author_count,
            p.organization or "", "" if p.upvotes is None else p.upvotes, "; ".join(p.sources),
        ])
    return out.getvalue().encode("utf-8")


def papers_bibtex(papers: list[Paper], view: "SiteView", site_url: str = "") -> bytes:
    """BibTeX ``@misc`` entries for *papers*, in the given order, with keys unique in the file.

    Keys are the site-wide ones (see :func:`bibtex_key`) so a citation copied from a paper
    page matches the one in any downloaded file.
    """
    keys = _site_keys(view) if view is not None else {}
    if view is not None and all(p.id in keys for p in papers):
        return _bibtex_file([view.bibtex(p, site_url) for p in papers])
    keys = _unique_keys(papers)
    return _bibtex_file([bibtex_entry(p, view, site_url, key=keys[p.id]) for p in papers])


def _bibtex_file(entries: list[str]) -> bytes:
    return ("\n\n".join(entries) + "\n").encode("utf-8") if entries else b""


EXPORT_FORMATS = ("json", "csv", "bibtex")


def export_papers(site: Site, fmt: str, topic: str | None = None) -> bytes:
    """The papers (of one topic, if given) as ``json``, ``csv`` or ``bibtex`` bytes, the same
    bytes the site offers for download.  An unknown topic raises ContentError with the
    closest valid id."""
    from .diagnostics import ContentError, Diagnostic, did_you_mean

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (valid: {', '.join(EXPORT_FORMATS)})")
    view = site.view
    papers = view.visible
    if topic is not None:
        if topic not in view.topic_by_id:
            hint = did_you_mean(topic, view.topic_by_id) or " (`readinglist topics` lists them)"
            raise ContentError([Diagnostic("error", f"unknown topic id '{topic}'{hint}")])
        papers = [p for p in papers if topic in p.topic_ids]
    if fmt == "json":
        return _papers_json_bytes(site, view, papers)
    if fmt == "csv":
        return papers_csv(papers, view)
    return papers_bibtex(papers, view, site.options.site_url)


def export_names(view: "SiteView") -> list[str]:
    """The names of the files :func:`build_exports` makes, in its order, known before any
    of them is made."""
    names = ["papers.json", "papers.csv", "papers.bib", "feed.xml"]
    for topic in view.topics:
        names += [f"topics/{topic.id}/feed.xml", f"topics/{topic.id}/papers.bib", f"topics/{topic.id}/sitemap.xml"]
    return names


def build_exports(site: Site, view: "SiteView", options: "BuildOptions", templates_dir: Path) -> dict[str, bytes]:
    """Every data file of the site: ``papers.json``/``.csv``/``.bib``, the Atom feeds and
    per-topic BibTeX files, in the order of :func:`export_names`."""
    made = {**exports_with_related(site, view), **exports_without_related(view, options, templates_dir)}
    return {name: made[name] for name in export_names(view)}


def exports_with_related(site: Site, view: "SiteView") -> dict[str, bytes]:
    """The data files that show related papers (``papers.json``): made once they are known."""
    return {"papers.json": _papers_json_bytes(site, view, view.visible)}


def exports_without_related(view: "SiteView", options: "BuildOptions", templates_dir: Path) -> dict[str, bytes]:
    """The data files that do not show related papers: CSV, BibTeX and the feeds, which can
    be made before related papers are computed."""
    # A paper's BibTeX entry is made once and joined into papers.bib and its topics' files.
    bibtex = {p.id: view.bibtex(p, options.site_url) for p in view.visible}
    feeds = _Feeds(view.visible, view, options, templates_dir)
    out = {
        "papers.csv": papers_csv(view.visible, view),
        "papers.bib": _bibtex_file([bibtex[p.id] for p in view.visible]),
        "feed.xml": feeds.feed(view.visible, title=options.site_name,
                               subtitle=options.site_description or "Newest papers", path="feed.xml", page_path=""),
    }
    for topic in view.topics:
        mine = view.by_topic.get(topic.id, [])
        out[f"topics/{topic.id}/feed.xml"] = feeds.feed(
            mine, title=f"{options.site_name}: {topic.name}",
            subtitle=topic.description, path=f"topics/{topic.id}/feed.xml", page_path=topic.url)
        out[f"topics/{topic.id}/papers.bib"] = _bibtex_file([bibtex[p.id] for p in sorted(mine, key=lambda p: p.id)])
        # Material looks for a sitemap.xml beside every <link rel="alternate"> (meant for
        # translations); an empty one spares each topic page a 404.
        out[f"topics/{topic.id}/sitemap.xml"] = EMPTY_SITEMAP
    return out


EMPTY_SITEMAP = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>\n'
