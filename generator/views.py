"""What each page shows, computed once from the gathered content.

Templates get these view objects instead of reaching into the catalog themselves, so the
ordering rules (newest first, ties by id, ...) live in Python where they are tested, and
templates stay about layout.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .models import Listing, Paper, Related, Topic, TopicTag
from .render import format_date
from . import exports
from .topics import cooccurring

MAP_COLOURS = 10  # distinct dot colours; more are hard to tell apart
MAP_LABEL_SAMPLE = 2000  # dots of a topic looked at to place its label
MAP_TOOLTIP_LIMIT = 3000  # above this many papers the map drops per-dot titles to stay small
STATUS_LABELS = {"to-read": "To read", "reading": "Reading", "read": "Read"}
# Fields whose hand-set value a reader might otherwise take for the listing's.
FIELD_LABELS = {
    "title": "title", "abstract": "abstract", "date": "date", "authors": "authors",
    "organization": "organisation", "arxiv": "arXiv id", "links": "links", "topics": "topics",
}


def _coord(value: float) -> Markup:
    """An SVG coordinate, formatted once here rather than by the template for every use."""
    return Markup(f"{value:.1f}")


def newest_first(p: Paper) -> tuple:
    """Sort key: dated papers newest first, then by upvotes, then by title and id."""
    return (p.date is None, -(p.date.toordinal() if p.date else 0), -(p.upvotes or 0), p.title.lower(), p.id)


@dataclass
class PaperView:
    """What a paper page shows besides the paper itself."""

    meta: list[tuple[str, bool]]  # (text, set by hand) pieces of the metadata line
    topics: list[tuple[Topic, TopicTag]]
    listings: list[Listing]
    related: list[tuple[Paper, Related]]
    backlinks: list[Paper]
    bibtex: str
    graph: dict[str, Any] | None
    status_label: str
    hand_fields: list[str]
    site: "SiteView"

    def topic_names(self, ids: list[str]) -> str:
        """Topic names for ids, joined for a sentence."""
        return ", ".join(self.site.topic_name(t) for t in ids)


class SiteView:
    """The whole site as the templates see it."""

    def __init__(self, listings: list[Listing], papers: list[Paper], taxonomy: Any, options: Any):
        self.name = options.site_name
        self.description = options.site_description
        self.listings = listings
        self.papers = papers
        self.visible = [p for p in papers if not p.hidden]
        self.by_id = {p.id: p for p in self.visible}
        self.listing_by_id = {listing.id: listing for listing in listings}
        self.taxonomy = taxonomy
        counts = Counter(t.topic for p in self.visible for t in p.topics)
        self.counts = counts
        # Papers of each topic, newest first: topic pages, feeds and BibTeX files all need it.
        self.by_topic: dict[str, list[Paper]] = {}
        for p in sorted(self.visible, key=newest_first):
            for t in p.topics:
                self.by_topic.setdefault(t.topic, []).append(p)
        self._bibtex: dict[tuple[str, str], str] = {}
        # Topics with no papers still get a page (a maintainer may have just added them).
        self.topics: list[Topic] = list(taxonomy.topics)
        self.topic_by_id = {t.id: t for t in self.topics}
        self.has_status = any(p.status for p in self.visible)
        self.featured = sorted((p for p in self.visible if p.featured), key=newest_first)
        self.newest = sorted((p for p in self.visible if p.date), key=newest_first)[:10]
        self.positions: dict[str, tuple[float, float]] = {}
        self.layout_method = ""
        self.colour: dict[str, int] = {}
        self.primary: dict[str, str] = {}
        self.legend: list[tuple[Topic, int, int]] = []
        self.legend_other = 0
        self.most_upvoted = sorted((p for p in self.visible if p.upvotes), key=lambda p: (-(p.upvotes or 0), p.id))[:10]

    # -- small helpers the templates call

    def bibtex(self, p: Paper, site_url: str = "") -> str:
        """The BibTeX entry of a paper, computed once per build (pages and files share it)."""
        key = (p.id, site_url)
        if key not in self._bibtex:
            self._bibtex[key] = exports.bibtex_entry(p, self, site_url)
        return self._bibtex[key]

    def topic_count(self, topic_id: str) -> int:
        """Visible papers with this topic."""
        return self.counts.get(topic_id, 0)

    def topic_name(self, topic_id: str) -> str:
        """Display name of a topic id."""
        topic = self.topic_by_id.get(topic_id)
        return topic.name if topic else topic_id

    def row_meta(self, p: Paper) -> str:
        """A short metadata line for a paper in a list: date, authors, upvotes."""
        return " · ".join(text for text, _ in self._meta(p, short=True))

    @property
    def top_topics(self) -> list[Topic]:
        """Root topics by paper count, for the home page grid."""
        roots = [t for t in self.topics if t.parent is None]
        return sorted(roots, key=lambda t: (-self.topic_count(t.id), t.name.lower()))

    @property
    def topic_tree(self) -> list[tuple[Topic, int]]:
        """Every topic with its depth, parents before children, siblings by name."""
        children: dict[str | None, list[Topic]] = {}
        for t in self.topics:
            children.setdefault(t.parent, []).append(t)
        out: list[tuple[Topic, int]] = []

        def walk(parent: str | None, depth: int) -> None:
            for t in sorted(children.get(parent, []), key=lambda t: t.name.lower()):
                out.append((t, depth))
                walk(t.id, depth + 1)

        walk(None, 0)
        return out

    # -- per page views

    def _meta(self, p: Paper, short: bool = False) -> list[tuple[str, bool]]:
        hand = set(p.overridden)
        parts: list[tuple[str, bool]] = []
        if p.date:
            parts.append((str(format_date(p.date)), "date" in hand))
        if p.authors:
            names = p.authors if len(p.authors) <= 6 or not short else p.authors[:3] + ["et al."]
            parts.append((", ".join(names), True))
        elif p.author_count:
            parts.append((f"{p.author_count} author{'s' if p.author_count != 1 else ''}", False))
        if p.organization:
            parts.append((p.organization, "organization" in hand))
        if p.upvotes:
            text = f"{p.upvotes} upvote{'s' if p.upvotes != 1 else ''}"
            if p.upvotes_as_of and not short:
                text += f" as of {format_date(p.upvotes_as_of)}"
            parts.append((text, False))
        return parts

    def paper_view(self, p: Paper) -> PaperView:
        """The view of one paper page."""
        tags = [(self.topic_by_id[t.topic], t) for t in p.topics if t.topic in self.topic_by_id]
        related = [(self.by_id[r.id], r) for r in p.related if r.id in self.by_id]
        backlinks = [self.by_id[b] for b in p.backlinks if b in self.by_id]
        listings = [self.listing_by_id[s] for s in p.sources if s in self.listing_by_id]
        return PaperView(
            meta=self._meta(p),
            topics=tags,
            listings=listings,
            related=related,
            backlinks=backlinks,
            bibtex=self.bibtex(p),
            graph=self.neighbourhood(p, related),
            status_label=STATUS_LABELS.get(p.status or "", ""),
            hand_fields=[FIELD_LABELS.get(f, f) for f in p.overridden if f in FIELD_LABELS],
            site=self,
        )

    def topic_view(self, topic: Topic) -> dict[str, Any]:
        """The view of one topic page: its papers, sub-topics, co-occurring topics, listings."""
        papers = self.by_topic.get(topic.id, [])
        from_listings = Counter(s for p in papers for s in p.sources)
        return {
            "papers": papers,
            "children": sorted((t for t in self.topics if t.parent == topic.id), key=lambda t: t.name.lower()),
            # Only this topic's papers are passed: the rest cannot co-occur with it.
            "cooccurring": [(t, n) for t, n in cooccurring(papers, topic.id) if t in self.topic_by_id],
            "listings": [(self.listing_by_id[lid], n) for lid, n in sorted(from_listings.items(), key=lambda kv: (-kv[1], kv[0])) if lid in self.listing_by_id],
            "map_path": self.map_path(papers) if self.positions else "",
        }

    def listing_view(self, listing: Listing) -> dict[str, Any]:
        """The view of one listing page: its papers in listing order."""
        position = {entry.location: i for i, entry in enumerate(listing.entries)}
        papers = [p for p in self.visible if listing.id in p.sources]
        first = {p.id: min((position[o] for o in p.origins if o in position), default=len(position)) for p in papers}
        papers.sort(key=lambda p: (first[p.id], p.id))
        return {"papers": papers, "shared": sum(1 for p in papers if len(p.sources) > 1)}

    def status_view(self) -> dict[str, Any]:
        """Papers with a reading status, grouped to-read, reading, read."""
        groups = []
        for status, label in STATUS_LABELS.items():
            rows = sorted((p for p in self.visible if p.status == status), key=newest_first)
            if rows:
                groups.append((label, rows))
        return {"groups": groups}

    # -- the map (positions come from generator.layout)

    def set_layout(self, positions: dict[str, tuple[float, float]], method: str) -> None:
        """Give the view the map positions of the visible papers."""
        self.positions = positions
        self.layout_method = method
        # Colours go to the topics that together cover the most papers (greedy set cover),
        # and each paper takes the colour of its best-ranked coloured topic: far fewer grey
        # dots than colouring by each paper's first topic alone.
        own = {p.id: [t.topic for t in p.topics if not t.inherited_from] or p.topic_ids for p in self.visible}
        uncovered = {pid for pid, ts in own.items() if ts}
        legend: list[str] = []
        while uncovered and len(legend) < MAP_COLOURS:
            gain = Counter(t for pid in uncovered for t in own[pid] if t not in legend)
            if not gain:
                break
            best = min(gain.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            legend.append(best)
            uncovered -= {pid for pid in uncovered if best in own[pid]}
        chosen = set(legend)
        primary = {pid: next((t for t in ts if t in chosen), ts[0]) for pid, ts in own.items() if ts}
        counts = Counter(primary.values())
        legend.sort(key=lambda t: (-counts[t], t))
        self.colour = {t: i for i, t in enumerate(legend)}
        self.primary = primary
        self.legend = [(self.topic_by_id[t], i, counts[t]) for i, t in enumerate(legend) if t in self.topic_by_id]
        others = sum(n for t, n in counts.items() if t not in self.colour)
        self.legend_other = others + sum(1 for p in self.visible if p.id not in primary)

    def colour_of(self, p: Paper) -> str:
        """CSS class suffix of a paper's dot: its primary topic's colour, or ``x`` for the rest."""
        c = self.colour.get(self.primary.get(p.id, ""))
        return "x" if c is None else str(c)

    def map_view(self) -> dict[str, Any]:
        """Dots, legend and cluster labels of the map page."""
        dots = [(p, self.positions[p.id], self.colour_of(p)) for p in self.visible if p.id in self.positions]
        labels = []
        placed: list[tuple[float, float, float]] = []  # x, y, half width of labels so far
        for topic, colour, n in self.legend:
            pts = np.array([self.positions[p.id] for p in self.visible
                            if self.primary.get(p.id) == topic.id and p.id in self.positions][:MAP_LABEL_SAMPLE])
            if not len(pts):
                continue
            # Label the densest spot of the topic (the dot with most same-topic dots nearby),
            # not its mean, which for a spread-out topic lands in the middle of the map.
            near = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1) < 70.0**2
            x, y = pts[int(np.argmax(near.sum(1)))]
            half = 4.5 * len(topic.name)
            # Step down past labels already placed rather than printing over them.
            for _ in range(12):
                if all(abs(x - px) > half + ph or abs(y - py) > 18 for px, py, ph in placed):
                    break
                y += 19
            placed.append((float(x), float(y), half))
            labels.append((topic, round(float(x), 1), round(float(y) - 10, 1)))
        return {
            "dots": dots,
            "labels": labels,
            "tooltips": len(dots) <= MAP_TOOLTIP_LIMIT,
            "method": self.layout_method,
            "clusters": sorted(
                ((t, sum(1 for p in self.visible if self.primary.get(p.id) == t.id)) for t in self.topics),
                key=lambda tn: (-tn[1], tn[0].name.lower()),
            ),
        }

    def map_path(self, papers: list[Paper]) -> str:
        """SVG path data drawing one round dot per paper (``M x y h0`` segments)."""
        return "".join(f"M{self.positions[p.id][0]:g} {self.positions[p.id][1]:g}h0" for p in papers if p.id in self.positions)

    def neighbourhood(self, p: Paper, related: list[tuple[Paper, Related]]) -> dict[str, Any] | None:
        """Nodes and edges of a paper's small neighbourhood graph: the paper at the centre,
        its related papers around it (closer when more similar), and the links among them."""
        if not related:
            return None
        cx, cy = 180.0, 120.0
        nodes: list[tuple[Paper, Markup, Markup, int]] = [(p, _coord(cx), _coord(cy), 0)]
        k = len(related)
        for i, (other, rel) in enumerate(related):
            angle = -math.pi / 2 + 2 * math.pi * i / k
            r = 45 + (1 - min(max(rel.score, 0.0), 1.0)) * 60
            nodes.append((other, _coord(cx + r * math.cos(angle) * 1.4), _coord(cy + r * math.sin(angle)), i + 1))
        index = {node[0].id: node for node in nodes}
        edges = []
        seen: set[tuple[str, str]] = set()
        for a in nodes:
            for rel in a[0].related:
                b = index.get(rel.id)
                if b is None:
                    continue
                pair = (a[0].id, b[0].id) if a[0].id < b[0].id else (b[0].id, a[0].id)
                if pair not in seen:
                    seen.add(pair)
                    edges.append((a, b, a[0].id == p.id or b[0].id == p.id))
        return {"nodes": nodes, "edges": edges}

    def timeline_view(self) -> dict[str, Any]:
        """Dated papers grouped by year and month, newest first, then the undated ones."""
        dated = sorted((p for p in self.visible if p.date), key=newest_first)
        years: list[tuple[int, list[tuple[dt.date, list[Paper]]]]] = []
        for p in dated:
            assert p.date is not None
            month = p.date.replace(day=1)
            if not years or years[-1][0] != p.date.year:
                years.append((p.date.year, []))
            months = years[-1][1]
            if not months or months[-1][0] != month:
                months.append((month, []))
            months[-1][1].append(p)
        undated = sorted((p for p in self.visible if not p.date), key=lambda p: (p.title.lower(), p.id))
        return {"years": years, "undated": undated}
