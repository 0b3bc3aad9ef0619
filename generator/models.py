"""The records that flow through the pipeline.

``Listing``/``Entry`` come from the listing files (:mod:`generator.sources`); ``Paper`` is
one paper after merging entries across listings (:mod:`generator.catalog`) and applying
hand edits (:mod:`generator.overrides`); ``Topic``/``TopicTag`` come from the taxonomy
(:mod:`generator.topics`); ``Related`` from :mod:`generator.related`.  ``Site`` is what the
pipeline hands to the adapters: the pages to render plus the data for exports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Location
from .urls import listing_url, paper_url, topic_url


@dataclass
class Entry:
    """One paper as it appears in one listing file, with the raw text as copied."""

    listing: str  # listing id
    location: Location  # where the title line is
    title: str
    abstract: str
    author_count: int | None = None
    organization: str | None = None
    date: dt.date | None = None
    upvotes: int | None = None


@dataclass
class Listing:
    """A listing file (``content/sources/<id>.txt``) and its description from ``sources.yaml``."""

    id: str
    path: Path
    title: str
    description: str = ""
    captured: dt.date | None = None
    entries: list[Entry] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Site-relative URL of the listing page."""
        return listing_url(self.id)


@dataclass
class TopicTag:
    """A topic assigned to a paper and why: the matched words, or ``manual``."""

    topic: str
    score: float
    manual: bool = False
    matched: list[str] = field(default_factory=list)
    inherited_from: str | None = None  # a child topic that brought this parent in

    @property
    def reason(self) -> str:
        """A short human explanation, e.g. ``matched "mixture of experts" in title``."""
        if self.manual:
            return "added by hand"
        if self.inherited_from:
            return f"parent of {self.inherited_from}"
        return "matched " + ", ".join(self.matched) if self.matched else "matched"


@dataclass
class Related:
    """A link from one paper to a similar one, with the score and the reasons."""

    id: str
    score: float
    why: list[str] = field(default_factory=list)  # shared topics first, then shared terms
    shared_topics: list[str] = field(default_factory=list)
    shared_terms: list[str] = field(default_factory=list)
    weak: bool = False  # below the minimum score, shown only because the list was short


@dataclass
class Paper:
    """One distinct paper, merged from every listing entry that shows it."""

    id: str  # slug of the original title; never changes
    title: str  # cleaned for display
    abstract: str  # cleaned for display
    raw_title: str
    raw_abstract: str
    date: dt.date | None = None
    author_count: int | None = None
    authors: list[str] = field(default_factory=list)
    upvotes: int | None = None
    upvotes_as_of: dt.date | None = None
    organization: str | None = None
    arxiv: str | None = None
    sources: list[str] = field(default_factory=list)  # listing ids, in listing order
    links: dict[str, list[str]] = field(default_factory=dict)  # kind -> urls
    origins: list[Location] = field(default_factory=list)
    topics: list[TopicTag] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    backlinks: list[str] = field(default_factory=list)
    # hand curation (content/overrides.yaml, content/papers.yaml)
    overridden: list[str] = field(default_factory=list)  # field names set by hand
    note: str | None = None
    featured: bool = False
    status: str | None = None
    hidden: bool = False
    hidden_reason: str | None = None
    hand_added: bool = False
    aliases: list[str] = field(default_factory=list)  # ids merged into this one (redirects)

    @property
    def url(self) -> str:
        """Site-relative URL of the paper page."""
        return paper_url(self.id)

    @property
    def topic_ids(self) -> list[str]:
        """Assigned topic ids, best first."""
        return [t.topic for t in self.topics]


@dataclass
class Topic:
    """A topic of the taxonomy (``content/topics.yaml``)."""

    id: str
    name: str
    description: str = ""
    parent: str | None = None
    aliases: list[str] = field(default_factory=list)
    intentional_small: bool = False
    location: Location | None = None

    @property
    def url(self) -> str:
        """Site-relative URL of the topic page."""
        return topic_url(self.id)


@dataclass
class Site:
    """Everything the pipeline produced: pages to render and data to export."""

    pages: dict[str, str]  # src path ("papers/x.md") -> Markdown, in a deterministic order
    assets: dict[str, bytes]  # other generated files for the site ("assets/readinglist.css")
    exports: dict[str, bytes]  # files written after the build ("papers.json", "feed.xml")
    listings: list[Listing]
    papers: list[Paper]  # visible and hidden, sorted by id
    topics: list[Topic]
    nav_pages: set[str] = field(default_factory=set)  # generated pages meant for the navigation
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # informational lines for the build log
    stats: dict[str, float] = field(default_factory=dict)
    view: Any = None  # the SiteView the pages were rendered from
    options: Any = None  # the BuildOptions of the run
