"""Merging listing entries into papers.

The same paper shows up in several listings, sometimes with and sometimes without
metadata.  Entries are grouped by the slug of their title (which is also the paper id),
and the merged paper keeps every listing it came from and the richest metadata.
"""

from __future__ import annotations

from .cleaning import classify_url, clean_text, find_urls, short_name, strip_invisible
from .models import Entry, Listing, Paper
from .urls import paper_id


def build_catalog(listings: list[Listing]) -> list[Paper]:
    """One :class:`Paper` per distinct title across *listings*, sorted by id.

    Field by field the merge prefers: the first title seen (listing order); the longest
    abstract; the first known date, author count and organisation; the highest upvote
    count, with the capture date of the listing that showed it.
    """
    captured = {listing.id: listing.captured for listing in listings}
    groups: dict[str, list[Entry]] = {}
    for listing in listings:
        for entry in listing.entries:
            groups.setdefault(_paper_id(entry.title), []).append(entry)
    return [_merge(pid, entries, captured) for pid, entries in sorted(groups.items())]


# What merging makes of the texts of an entry, by text: the paper id a title gives, and
# titles and abstracts cleaned (with the short name of the entry's title).  A process that
# read some listings works them out and hands them over (see prepare_entries), and the same
# titles come again and again in the listings of a long-running process (bounded there).
_IDS: dict[str, str] = {}
_CLEANED: dict[tuple[str, str | None], str] = {}
_KEPT_MAX = 1 << 16


def _paper_id(title: str) -> str:
    pid = _IDS.get(title)
    if pid is None:
        if len(_IDS) >= _KEPT_MAX:
            _IDS.clear()
        pid = _IDS[title] = paper_id(strip_invisible(title))
    return pid


def _cleaned(text: str, name: str | None) -> str:
    hit = _CLEANED.get((text, name))
    return clean_text(text, name) if hit is None else hit


_Prepared = tuple[dict[str, str], dict[tuple[str, str | None], str]]


def prepare_entries(entries: list[Entry]) -> _Prepared:
    """What merging *entries* into papers needs from their texts, worked out ahead (paper
    ids, cleaned titles and abstracts), for a process that parsed listings to hand over
    with their entries (see :func:`remember_prepared`)."""
    ids: dict[str, str] = {}
    cleaned: dict[tuple[str, str | None], str] = {}
    for entry in entries:
        ids[entry.title] = _paper_id(entry.title)
        name = short_name(entry.title)
        for text in (entry.title, entry.abstract):
            cleaned[text, name] = clean_text(text, name)
    return ids, cleaned


def remember_prepared(prepared: _Prepared) -> None:
    """Take what :func:`prepare_entries` worked out in another process as worked out here."""
    ids, cleaned = prepared
    for kept, new in ((_IDS, ids), (_CLEANED, cleaned)):
        if len(kept) + len(new) > _KEPT_MAX:
            kept.clear()
        kept.update(new)  # type: ignore[attr-defined]


def _merge(pid: str, entries: list[Entry], captured: dict) -> Paper:
    first = entries[0]
    raw_abstract = max((e.abstract for e in entries), key=len)
    name = short_name(first.title)
    paper = Paper(
        id=pid,
        title=_cleaned(first.title, name),
        abstract=_cleaned(raw_abstract, name),
        raw_title=first.title,
        raw_abstract=raw_abstract,
    )
    for entry in entries:
        if entry.listing not in paper.sources:
            paper.sources.append(entry.listing)
        paper.origins.append(entry.location)
        paper.date = paper.date or entry.date
        paper.author_count = paper.author_count or entry.author_count
        paper.organization = paper.organization or entry.organization
        if entry.upvotes is not None and (paper.upvotes is None or entry.upvotes > paper.upvotes):
            paper.upvotes = entry.upvotes
            paper.upvotes_as_of = captured.get(entry.listing)
    for url in find_urls(raw_abstract):
        paper.links.setdefault(classify_url(url), []).append(url)
    return paper
