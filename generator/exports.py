"""Data exports: ``papers.json`` (the contract in DESIGN.md), feeds, CSV and BibTeX.

Exports are built from the same gathered content as the pages and are deterministic:
sorted by id, no timestamps other than the papers' own dates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from .models import Paper, Site

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
        "related": [{"id": r.id, "score": r.score, "why": list(r.why)} for r in p.related],
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


def papers_json(site: Site, view: "SiteView") -> dict[str, Any]:
    """The ``papers.json`` document: visible papers, topics and listings, in id order."""
    return {
        "papers": [paper_record(p) for p in view.visible],
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


def dumps(data: Any) -> bytes:
    """Deterministic, readable JSON bytes."""
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode("utf-8")


_BIB_SPECIAL = re.compile(r"([{}\\#$%&_^~])")


def bibtex_escape(text: str) -> str:
    """Text for a BibTeX field value in braces: specials escaped, braces balanced."""
    return _BIB_SPECIAL.sub(lambda m: {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}.get(m.group(1), "\\" + m.group(1)), text)


def bibtex_key(p: Paper) -> str:
    """A citation key: first word of the id, year when known, then a short hash-free suffix."""
    words = p.id.split("-")
    year = str(p.date.year) if p.date else "nd"
    return f"{words[0]}{year}{''.join(w[:1] for w in words[1:4])}"


def bibtex_entry(p: Paper, view: "SiteView | None" = None, site_url: str = "") -> str:
    """A ``@misc`` BibTeX entry with what is known about the paper."""
    fields: list[tuple[str, str]] = [("title", "{" + bibtex_escape(p.title) + "}")]
    if p.authors:
        fields.append(("author", " and ".join(bibtex_escape(a) for a in p.authors)))
    if p.date:
        fields.append(("year", str(p.date.year)))
        fields.append(("month", p.date.strftime("%b").lower()))
    if p.arxiv:
        fields += [("eprint", p.arxiv), ("archivePrefix", "arXiv")]
    url = (p.links.get("code") or [None])[0]
    if p.arxiv:
        url = f"https://arxiv.org/abs/{p.arxiv}"
    if url:
        # The url package reads the value verbatim; only braces could unbalance the entry.
        fields.append(("url", url.replace("{", "%7B").replace("}", "%7D")))
    if view is not None and p.topics:
        fields.append(("keywords", bibtex_escape(", ".join(view.topic_name(t.topic) for t in p.topics))))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@misc{{{bibtex_key(p)},\n{body}\n}}"


FEED_SIZE = 100  # newest papers per feed; readers subscribe for what is new


def _absolute(site_url: str, path: str) -> str:
    return (site_url.rstrip("/") + "/" + path) if site_url else path


def atom_feed(papers: list[Paper], view: "SiteView", options: "BuildOptions", templates_dir: Path,
              *, title: str, subtitle: str, path: str, page_path: str) -> bytes:
    """An Atom feed of the newest *papers* (already sorted newest first).

    Dates come from the papers (or their listing's capture date), never from the clock, so
    the same content gives the same feed.
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    entries = []
    for p in papers[:FEED_SIZE]:
        day = p.date or _captured(p, view)
        stamp = f"{day.isoformat()}T00:00:00Z" if day else "1970-01-01T00:00:00Z"
        entries.append({
            "title": p.title,
            "id": _absolute(options.site_url, p.url) if options.site_url else f"urn:readinglist:{p.id}",
            "url": _absolute(options.site_url, p.url),
            "updated": stamp,
            "published": f"{p.date.isoformat()}T00:00:00Z" if p.date else None,
            "authors": list(p.authors),
            "topics": [view.topic_by_id[t.topic] for t in p.topics if t.topic in view.topic_by_id],
            "summary": p.abstract,
        })
    updated = max((e["updated"] for e in entries), default="1970-01-01T00:00:00Z")
    xml = env.get_template("feed.xml.j2").render(
        title=title, subtitle=subtitle, entries=entries, updated=updated, author=options.site_name,
        feed_id=_absolute(options.site_url, path) if options.site_url else f"urn:readinglist:{path}",
        self_url=_absolute(options.site_url, path), page_url=_absolute(options.site_url, page_path),
    )
    return xml.encode("utf-8")


def _captured(p: Paper, view: "SiteView"):
    days = [view.listing_by_id[s].captured for s in p.sources if s in view.listing_by_id and view.listing_by_id[s].captured]
    return min(days) if days else None


def papers_csv(papers: list[Paper], view: "SiteView") -> bytes:
    """One row per paper for spreadsheets: id, title, date, topics, url, code links."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "title", "date", "topics", "url", "code", "authors", "upvotes", "sources"])
    for p in papers:
        writer.writerow([
            p.id, p.title, p.date.isoformat() if p.date else "",
            "; ".join(t.topic for t in p.topics), p.url, " ".join(p.links.get("code", [])),
            "; ".join(p.authors) if p.authors else (p.author_count or ""), p.upvotes if p.upvotes is not None else "",
            "; ".join(p.sources),
        ])
    return out.getvalue().encode("utf-8")


def papers_bibtex(papers: list[Paper], view: "SiteView", site_url: str = "") -> bytes:
    """BibTeX ``@misc`` entries for *papers*, in the given order, with unique keys."""
    seen: dict[str, int] = {}
    chunks = []
    for p in papers:
        entry = bibtex_entry(p, view, site_url)
        key = bibtex_key(p)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            entry = entry.replace("@misc{" + key + ",", "@misc{" + key + chr(ord("a") + n - 1 if n <= 26 else ord("z")) + str(n) * (n > 26) + ",", 1)
        chunks.append(entry)
    return ("\n\n".join(chunks) + "\n").encode("utf-8")


def export_papers(site: Site, fmt: str, topic: str | None = None) -> bytes:
    """The papers (of one topic, if given) as ``json``, ``csv`` or ``bibtex`` bytes."""
    from .diagnostics import ContentError, Diagnostic, did_you_mean

    view = site.view
    papers = view.visible
    if topic is not None:
        if topic not in view.topic_by_id:
            raise ContentError([Diagnostic("error", f"unknown topic id '{topic}'{did_you_mean(topic, view.topic_by_id)}")])
        papers = [p for p in papers if topic in p.topic_ids]
    if fmt == "json":
        data = papers_json(site, view)
        data["papers"] = [paper_record(p) for p in papers]
        return dumps(data)
    if fmt == "csv":
        return papers_csv(papers, view)
    return papers_bibtex(papers, view, site.options.site_url)


def build_exports(site: Site, view: "SiteView", options: "BuildOptions", templates_dir: Path) -> dict[str, bytes]:
    """Every data file of the site: ``papers.json``/``.csv``/``.bib``, the Atom feeds and
    per-topic BibTeX files."""
    from .views import newest_first

    newest = sorted(view.visible, key=newest_first)
    out = {
        "papers.json": dumps(papers_json(site, view)),
        "papers.csv": papers_csv(view.visible, view),
        "papers.bib": papers_bibtex(view.visible, view, options.site_url),
        "feed.xml": atom_feed(newest, view, options, templates_dir, title=options.site_name,
                              subtitle=options.site_description or "Newest papers", path="feed.xml", page_path=""),
    }
    for topic in view.topics:
        mine = [p for p in newest if topic.id in p.topic_ids]
        out[f"topics/{topic.id}/feed.xml"] = atom_feed(
            mine, view, options, templates_dir, title=f"{options.site_name}: {topic.name}",
            subtitle=topic.description, path=f"topics/{topic.id}/feed.xml", page_path=topic.url)
        out[f"topics/{topic.id}/papers.bib"] = papers_bibtex(sorted(mine, key=lambda p: p.id), view, options.site_url)
    return out
