"""What each page shows, computed once from the gathered content.

Templates get these view objects instead of reaching into the catalog themselves, so the
ordering rules (newest first, ties by id, ...) live in Python where they are tested, and
templates stay about layout.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

from markupsafe import Markup

from .cleaning import first_sentence
from .models import Listing, Paper, Related, Topic
from .render import format_date, format_score, page_link
from . import escape, exports, urls
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


_NO_LINK = Markup("")


def _named_link(made: dict[tuple[str, str], Named], page_src: str, name: str, target_src: str) -> Named:
    """*name* escaped and the link to *target_src* from *page_src*, made once per folder of
    pages (links from pages in one folder read the same) and kept in *made*."""
    key = (_folder(page_src), target_src)
    named = made.get(key)
    if named is None:
        named = made[key] = Named(escape.text(name), page_link(page_src, target_src))
    return named


def _coord(value: float) -> str:
    """An SVG coordinate as pages print it."""
    return format(value, ".1f")


# The neighbourhood graph: its centre, and how far out related papers sit (closer when more similar).
_CENTRE_X, _CENTRE_Y = 180.0, 120.0
_CENTRE = Markup(f"{_coord(_CENTRE_X)} {_coord(_CENTRE_Y)}")


@functools.lru_cache(maxsize=1 << 14)
def _place(i: int, k: int, score: float) -> Markup:
    """Where node *i* of *k* related papers sits, ``"x y"``: evenly around the centre, the
    first straight up (scores have three decimals, so the same few places come up again
    and again)."""
    angle = -math.pi / 2 + 2 * math.pi * i / k
    r = 45 + (1 - min(max(score, 0.0), 1.0)) * 60
    # Wider than high: x is stretched.
    return Markup(f"{_coord(_CENTRE_X + r * math.cos(angle) * 1.4)} {_coord(_CENTRE_Y + r * math.sin(angle))}")


_DENSEST_BLOCK = 256  # points compared with their neighbours at a time


def _densest(pts: np.ndarray, radius: float) -> int:
    """The index of the point with the most points (itself too) closer than *radius*, the
    first one on a tie.

    Points are compared in blocks along x, each with the points not further than *radius*
    (and a margin for rounding) away in x: the others cannot be near, and a topic's 2,000
    points need not make a 2,000 x 2,000 table."""
    order = np.argsort(pts[:, 0], kind="stable")
    by_x = pts[order]
    xs = by_x[:, 0]
    lo = np.searchsorted(xs, xs - (radius + 1.0), side="left")
    hi = np.searchsorted(xs, xs + (radius + 1.0), side="right")
    ys = by_x[:, 1]
    counts = np.empty(len(pts), dtype=np.int64)
    for start in range(0, len(pts), _DENSEST_BLOCK):
        end = min(start + _DENSEST_BLOCK, len(pts))
        dx = xs[start:end, None] - xs[None, lo[start]:hi[end - 1]]
        dy = ys[start:end, None] - ys[None, lo[start]:hi[end - 1]]
        counts[order[start:end]] = (dx * dx + dy * dy < radius**2).sum(1)
    return int(np.argmax(counts))


def newest_first(p: Paper) -> tuple:
    """Sort key: dated papers newest first, then by upvotes, then by title and id."""
    return (p.date is None, -(p.date.toordinal() if p.date else 0), -(p.upvotes or 0), p.title.lower(), p.id)


# Pages show the same papers, topics and listings over and over: the view escapes their
# texts and works out their links once per build, and templates print the results.  A link
# is relative, so it is worked out for the pages of one folder: from ``topics/a.md`` to a
# paper it reads the same as from ``topics/b.md``.


class PaperRow(NamedTuple):
    """A paper as lists show it, for the pages of one folder."""

    title: Markup
    link: Markup
    note: bool
    status: Markup | None  # None without a reading status
    meta: Markup | None  # date, authors, upvotes; None when nothing is known
    summary: Markup | None  # first sentence of the abstract; None without an abstract


class Named(NamedTuple):
    """A topic or listing as pages of one folder link to it."""

    name: Markup
    link: Markup


class TopicChip(NamedTuple):
    """A topic of a paper, for the chips of its page."""

    name: Markup
    link: Markup
    reason: str  # why the paper has the topic
    manual: bool


class RelatedRow(NamedTuple):
    """One entry of a paper page's related list."""

    n: int  # its number, also shown in the graph
    title: Markup
    link: Markup
    score: Markup
    weak_start: bool  # the first weak one of a run: the list introduces it
    why: bool
    topics: Markup | None  # names of the shared topics; None without any
    terms: Markup | None  # the shared terms; None without any


class GraphNode(NamedTuple):
    """A paper in a neighbourhood graph."""

    n: int  # 0 for the paper of the page, else its number in the related list
    place: Markup  # its centre, "x y" in the graph's coordinates
    title: Markup
    href: Markup  # its page from the page of the graph; empty for the paper of the page


class PaperLink(NamedTuple):
    """A paper as the pages of other papers show it.

    Paper pages all sit in ``papers/``, so a paper looks the same from each of them."""

    id: str
    title: Markup
    link: Markup  # its source page, for Markdown links
    href: Markup  # its rendered page, for the links of the neighbourhood graph
    related: tuple[str, ...]  # ids of its related papers, for the edges of the graph


class Graph(NamedTuple):
    """A paper's neighbourhood graph: nodes, and as SVG path data its edges between related
    papers and those to the paper of the page (drawn stronger)."""

    nodes: list[GraphNode]
    edges: Markup
    central: Markup


@dataclass
class PaperView:
    """What a paper page shows besides the paper itself."""

    meta: list[tuple[str, bool]]  # (text, set by hand) pieces of the metadata line
    summary: str  # first sentence of the abstract
    topics: list[TopicChip]
    listings: list[Named]
    related: list[RelatedRow]
    backlinks: list[PaperLink]
    bibtex: str
    graph: Graph | None
    status_label: str
    hand_fields: list[str]
    site: "SiteView"


def _folder(page_src: str) -> str:
    """The folder of a source page: pages in one folder share their relative links."""
    return page_src.rpartition("/")[0]


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
        # Papers of each listing (the site order): every listing page needs its own.
        self._by_listing: dict[str, list[Paper]] = {}
        for p in self.visible:
            for lid in dict.fromkeys(p.sources):
                self._by_listing.setdefault(lid, []).append(p)
        # Topics with no papers still get a page (a maintainer may have just added them).
        self.topics: list[Topic] = list(taxonomy.topics)
        self.topic_by_id = {t.id: t for t in self.topics}
        self.has_status = any(p.status for p in self.visible)
        self.featured = sorted((p for p in self.visible if p.featured), key=newest_first)
        self.newest = sorted((p for p in self.visible if p.date), key=newest_first)[:10]
        self.positions: dict[str, tuple[float, float]] = {}
        self._map_dots: dict[str, str] = {}
        self.layout_method = ""
        self.colour: dict[str, int] = {}
        self.primary: dict[str, str] = {}
        self.legend: list[tuple[Topic, int, int]] = []
        self.legend_other = 0
        self.most_upvoted = sorted((p for p in self.visible if p.upvotes), key=lambda p: (-(p.upvotes or 0), p.id))[:10]
        self._summaries: dict[str, str] = {}
        self._row_texts: dict[str, PaperRow] = {}
        self._rows: dict[tuple[str, str], PaperRow] = {}
        self._paper_links: dict[str, PaperLink] = {}
        self._topic_name_lists: dict[tuple[str, ...], Markup] = {}
        self._topic_links: dict[tuple[str, str], Named] = {}
        self._listing_links: dict[tuple[str, str], Named] = {}

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

    def summary(self, p: Paper) -> str:
        """The first sentence of a paper's abstract, for its page's description and its rows."""
        s = self._summaries.get(p.id)
        if s is None:
            s = self._summaries[p.id] = first_sentence(str(p.abstract))
        return s

    def _texts(self, p: Paper) -> PaperRow:
        """A paper's row with an empty link: the texts, the same on every page."""
        texts = self._row_texts.get(p.id)
        if texts is None:
            meta = self.row_meta(p)
            texts = self._row_texts[p.id] = PaperRow(
                title=escape.text(p.title),
                link=Markup(""),
                note=bool(p.note),
                status=escape.text(p.status) if p.status else None,
                meta=escape.text(meta) if meta else None,
                summary=escape.text(self.summary(p)) if p.abstract else None,
            )
        return texts

    def rows(self, papers: list[Paper], page_src: str) -> list[PaperRow]:
        """*papers* as a list on the page at *page_src* shows them."""
        folder = _folder(page_src)
        out = []
        for p in papers:
            row = self._rows.get((folder, p.id))
            if row is None:
                row = self._rows[folder, p.id] = self._texts(p)._replace(link=page_link(page_src, urls.paper_src(p.id)))
            out.append(row)
        return out

    def paper_link(self, p: Paper) -> PaperLink:
        """A paper as paper pages show it in their lists and graphs."""
        link = self._paper_links.get(p.id)
        if link is None:
            src = urls.paper_src(p.id)
            link = self._paper_links[p.id] = PaperLink(
                # Links from any paper page read the same: work them out from its own.
                p.id, escape.text(p.title), page_link(src, src),
                # The rendered pages of papers are siblings.
                escape.url_path("../" + p.id + "/"),
                tuple(r.id for r in p.related),
            )
        return link

    def topic_link(self, topic: Topic, page_src: str) -> Named:
        """A topic's name and link as the page at *page_src* shows them."""
        return _named_link(self._topic_links, page_src, topic.name, urls.topic_src(topic.id))

    def listing_link(self, listing: Listing, page_src: str) -> Named:
        """A listing's title and link as the page at *page_src* shows them."""
        return _named_link(self._listing_links, page_src, listing.title, urls.listing_src(listing.id))

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
        src = urls.paper_src(p.id)
        topics = []
        for tag in p.topics:
            if tag.topic in self.topic_by_id:
                name, link = self.topic_link(self.topic_by_id[tag.topic], src)
                topics.append(TopicChip(name, link, tag.reason, tag.manual))
        related = [(self.paper_link(self.by_id[r.id]), r) for r in p.related if r.id in self.by_id]
        backlinks = [self.paper_link(self.by_id[b]) for b in p.backlinks if b in self.by_id]
        listings = [self.listing_link(self.listing_by_id[s], src) for s in p.sources if s in self.listing_by_id]
        return PaperView(
            meta=self._meta(p),
            summary=self.summary(p),
            topics=topics,
            listings=listings,
            related=self._related_rows(related),
            backlinks=backlinks,
            bibtex=self.bibtex(p),
            graph=self.neighbourhood(p, related),
            status_label=STATUS_LABELS.get(p.status or "", ""),
            hand_fields=[FIELD_LABELS.get(f, f) for f in p.overridden if f in FIELD_LABELS],
            site=self,
        )

    def _related_rows(self, related: list[tuple[PaperLink, Related]]) -> list[RelatedRow]:
        rows = []
        weak_before = False
        for n, (other, rel) in enumerate(related, 1):
            rows.append(RelatedRow(
                n, other.title, other.link, format_score(rel.score),
                rel.weak and not weak_before,  # the first weak one of a run
                bool(rel.why),
                self._topic_names(rel.shared_topics) if rel.shared_topics else None,
                escape.text(", ".join(rel.shared_terms)) if rel.shared_terms else None,
            ))
            weak_before = rel.weak
        return rows

    def _topic_names(self, ids: list[str]) -> Markup:
        """Names of topics for a sentence (the same few sets of topics come up again and again)."""
        key = tuple(ids)
        names = self._topic_name_lists.get(key)
        if names is None:
            names = self._topic_name_lists[key] = escape.text(", ".join(self.topic_name(t) for t in ids))
        return names

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
        papers = list(self._by_listing.get(listing.id, []))
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
        self._map_dots = {}
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

    def map_view(self, page_src: str) -> dict[str, Any]:
        """Dots, legend and cluster labels of the map page at *page_src*; each dot links to
        its paper from there."""
        dots = []
        by_main_topic: dict[str | None, list[tuple[float, float]]] = {}  # positions
        # The map links to every paper: the way to their folder is worked out once.
        folder = urls.relative_url(page_src, urls.PAPERS + "/")
        for p in self.visible:
            pos = self.positions.get(p.id)
            if pos is not None:
                dots.append((escape.url_path(f"{folder}{p.id}/"), pos[0], pos[1], self.colour_of(p), escape.text(p.title)))
                by_main_topic.setdefault(self.primary.get(p.id), []).append(pos)
        labels = []
        placed: list[tuple[float, float, float]] = []  # x, y, half width of labels so far
        for topic, colour, n in self.legend:
            pts = np.array(by_main_topic.get(topic.id, [])[:MAP_LABEL_SAMPLE])
            if not len(pts):
                continue
            # Label the densest spot of the topic (the dot with most same-topic dots nearby),
            # not its mean, which for a spread-out topic lands in the middle of the map.
            x, y = pts[_densest(pts, 70.0)]
            half = 4.5 * len(topic.name)
            # Step down past labels already placed rather than printing over them.
            for _ in range(12):
                if all(abs(x - px) > half + ph or abs(y - py) > 18 for px, py, ph in placed):
                    break
                y += 19
            placed.append((float(x), float(y), half))
            labels.append((topic, round(float(x), 1), round(float(y) - 10, 1)))
        main_topics = Counter(self.primary.get(p.id) for p in self.visible)
        return {
            "dots": dots,
            "labels": labels,
            "tooltips": len(dots) <= MAP_TOOLTIP_LIMIT,
            "method": self.layout_method,
            "clusters": sorted(((t, main_topics[t.id]) for t in self.topics), key=lambda tn: (-tn[1], tn[0].name.lower())),
        }

    def map_path(self, papers: list[Paper]) -> str:
        """SVG path data drawing one round dot per paper (``M x y h0`` segments)."""
        # A paper is drawn on the map of each of its topics and on the base map.
        dots = self._map_dots
        for p in papers:
            if p.id not in dots and p.id in self.positions:
                x, y = self.positions[p.id]
                dots[p.id] = f"M{x:g} {y:g}h0"
        return "".join([dots[p.id] for p in papers if p.id in dots])

    def neighbourhood(self, p: Paper, related: list[tuple[PaperLink, Related]]) -> Graph | None:
        """Nodes and edges of a paper's small neighbourhood graph: the paper at the centre,
        its related papers around it (closer when more similar), and the links among them."""
        if not related:
            return None
        k = len(related)
        places = [_CENTRE] + [_place(i, k, rel.score) for i, (_, rel) in enumerate(related)]
        neighbours = [self.paper_link(p)] + [other for other, _ in related]
        nodes = [GraphNode(0, _CENTRE, neighbours[0].title, _NO_LINK)]
        nodes += [GraphNode(n, places[n], node.title, node.href) for n, node in enumerate(neighbours[1:], 1)]
        # Papers are told apart by id: by the number of the last node of an id, should
        # one come twice.
        index = {node.id: n for n, node in enumerate(neighbours)}
        number = [index[node.id] for node in neighbours]
        centre = index[p.id]
        size = len(neighbours)
        edges: list[str] = []
        central: list[str] = []
        seen: set[int] = set()
        for i, node in enumerate(neighbours):
            a = number[i]
            for b in map(index.get, node.related):
                if b is not None:
                    pair = a * size + b if a < b else b * size + a
                    if pair not in seen:
                        seen.add(pair)
                        (central if a == centre or b == centre else edges).append(f"M{places[i]}L{places[b]}")
        return Graph(nodes, Markup("".join(edges)), Markup("".join(central)))

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
