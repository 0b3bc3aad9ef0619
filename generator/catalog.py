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
            groups.setdefault(paper_id(strip_invisible(entry.title)), []).append(entry)
    return [_merge(pid, entries, captured) for pid, entries in sorted(groups.items())]


def _merge(pid: str, entries: list[Entry], captured: dict) -> Paper:
    first = entries[0]
    raw_abstract = max((e.abstract for e in entries), key=len)
    name = short_name(first.title)
    paper = Paper(
        id=pid,
        title=clean_text(first.title, name),
        abstract=clean_text(raw_abstract, name),
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
