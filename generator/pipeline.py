"""The pipeline: content folder in, pages and export data out.

Stages run in order (sources -> catalog -> overrides -> topics -> related -> render), in
two steps: :func:`plan_site` reads, checks and tags the content and names every file of
the site; :func:`produce` computes related papers (a graph over all papers, so after every
paper is read) and the map, and makes the files one by one.  :func:`build_site` runs both
here; the MkDocs plugin runs ``produce`` in a second process beside MkDocs.  Nothing here
knows about MkDocs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from . import exports, related, views
from .catalog import build_catalog, prepare_entries, remember_prepared
from .diagnostics import ContentError, Diagnostics
from .models import Listing, Paper, Site
from .overrides import Curation, apply_curation, load_curation
from .layout import Layout, PendingLayout, start_layout
from .related import RelatedOptions, compute_related, text_vectors
from .render import Renderer
from .sources import find_listings, load_listings, read_entries
from .topics import Taxonomy, assign_topics, load_taxonomy
from . import urls
from .memory import collection_paused
from .workers import Forked, SharedCursor, Spool, WorkerError, can_fork


@dataclass
class BuildOptions:
    """What the site looks like beyond its content; set from the plugin config or CLI flags."""

    site_name: str = "Reading list"
    cache_dir: Path | None = None  # where layouts are cached between runs (None: memory only)
    site_description: str = ""
    site_url: str = ""
    related: RelatedOptions = field(default_factory=RelatedOptions)


def load_catalog(content_dir: Path) -> list[Paper]:
    """The merged, cleaned papers of a content folder, before hand edits and topics.

    A convenience for tools and tests that only need the papers; content errors raise
    :class:`~generator.diagnostics.ContentError`.
    """
    diagnostics = Diagnostics()
    listings = load_listings(Path(content_dir), diagnostics)
    diagnostics.raise_if_errors()
    return build_catalog(listings)


@dataclass
class Gathered:
    """The content after every stage but rendering."""

    listings: list[Listing]
    papers: list[Paper]
    taxonomy: Taxonomy
    curation: Curation
    entry_count: int
    merged: int


def gather(content_dir: Path, options: BuildOptions, diagnostics: Diagnostics) -> Gathered:
    """Read, merge, curate, tag and link all content; stops with every content error at once."""
    g = read_content(content_dir, diagnostics, for_related=True)
    diagnostics.raise_if_errors()
    compute_related(g.papers, options.related)
    return g


def read_content(content_dir: Path, diagnostics: Diagnostics, *, for_related: bool = False) -> Gathered:
    """Read, merge, curate and tag all content, recording (not raising) every problem, so
    that ``readinglist check`` can report on content the build would refuse.

    *for_related*: related papers are computed next; where two processes share the topic
    rules, each reads the features of the papers it scored for them too, from the words it
    has just normalised."""
    content_dir = Path(content_dir)
    listings = find_listings(content_dir, diagnostics)
    _read_listings(listings, diagnostics)
    catalog = build_catalog(listings)
    entry_count = sum(len(listing.entries) for listing in listings)
    curation = load_curation(content_dir, diagnostics)
    papers = apply_curation(catalog, curation, diagnostics)
    taxonomy_path = content_dir / "topics.yaml"
    taxonomy = load_taxonomy(taxonomy_path, diagnostics)
    visible = [p for p in papers if not p.hidden]  # in id order, as related papers read them
    if not for_related:
        assign_topics(visible, taxonomy, curation.manual_topics, diagnostics)
    else:
        texts = [text for p in visible for text in (p.title, p.abstract)]

        def read(ranges: list[range]) -> Any:
            return related.read_features(texts, [range(2 * r.start, 2 * r.stop) for r in ranges])

        readings = assign_topics(visible, taxonomy, curation.manual_topics, diagnostics, alongside=read)
        if readings:  # else related papers read the features themselves, later
            related.remember_features(texts, readings)
    return Gathered(listings, papers, taxonomy, curation, entry_count, entry_count - len(catalog))


# From this much listing text a forked process shares the reading (the build's first step,
# which nothing else can run beside).
READ_SPLIT_MIN_BYTES = 2 << 20


def _read_listings(listings: list[Listing], diagnostics: Diagnostics) -> None:
    """Read and parse every listing into its entries (:func:`sources.read_entries`).

    For a large list, where forking is safe, a forked process takes some of the listings,
    one at a time, and works out for their entries what merging them needs
    (:func:`catalog.prepare_entries`) too; entries and problems are kept in listing order."""
    size = sum(listing.path.stat().st_size for listing in listings if listing.path.is_file())
    if len(listings) < 2 or size < READ_SPLIT_MIN_BYTES or not can_fork():
        for listing in listings:
            read_entries(listing, diagnostics)
        return
    cursor = SharedCursor(len(listings), 1)

    def share() -> dict[int, tuple[list, list, Any]]:
        done = {}
        for claim in cursor.claims():
            for i in claim:
                found = Diagnostics()
                read_entries(listings[i], found)
                done[i] = (listings[i].entries, found.items, prepare_entries(listings[i].entries))
        return done

    helper = Forked(share)
    mine = share()  # what this process prepared is kept here already
    theirs = helper.result()
    for i, listing in enumerate(listings):
        listing.entries, items, _ = mine[i] if i in mine else theirs[i]
        diagnostics.items.extend(items)
        if i in theirs:
            remember_prepared(theirs[i][2])


@dataclass
class Plan:
    """The site before its costly stages: content read, checked and tagged, and the name of
    every file it will have known, in the order :func:`produce` makes them.

    Knowing the files first lets the MkDocs plugin hand MkDocs the whole file list while the
    pages are still being made elsewhere.
    """

    gathered: Gathered
    view: views.SiteView
    options: BuildOptions
    templates_dir: Path
    pages: list[str]
    assets: list[str]
    exports: list[str]
    nav_pages: set[str]
    warnings: list[str]
    stats: dict[str, float]
    started: float


def plan_site(content_dir: Path, templates_dir: Path, options: BuildOptions | None = None) -> Plan:
    """Read, check, curate and tag the content and name every file of the site.  Raises
    ContentError listing every error in the content."""
    started = time.perf_counter()
    options = options or BuildOptions()
    diagnostics = Diagnostics()
    with collection_paused():
        g = read_content(content_dir, diagnostics, for_related=True)
        diagnostics.raise_if_errors()
        view = views.SiteView(g.listings, g.papers, g.taxonomy, options)
    # Pages that need neither related papers nor the map come first, then paper pages,
    # then those drawing the map: in that order each can be made as soon as possible.
    pages = ["index.md", "topics/index.md", "lists/index.md"]
    pages += [urls.listing_src(listing.id) for listing in g.listings]
    pages += ["timeline.md", "status.md"]
    pages += [urls.paper_src(old) for old in sorted(g.curation.redirects)]
    pages += [urls.paper_src(p.id) for p in view.visible]
    pages += [urls.topic_src(topic.id) for topic in view.topics]
    pages += ["map.md"]
    stats = {
        "listings": len(g.listings),
        "entries": g.entry_count,
        "papers": len(view.visible),
        "merged": g.merged,
        "topics": len(view.topics),
    }
    return Plan(
        gathered=g,
        view=view,
        options=options,
        templates_dir=Path(templates_dir),
        pages=pages,
        assets=list(ASSETS),
        exports=exports.export_names(view),
        nav_pages={"index.md", "topics/index.md", "lists/index.md", "timeline.md", "map.md"},
        warnings=[str(d) for d in diagnostics.warnings],
        stats=stats,
        started=started,
    )


# Style sheets copied as they are, then the map's base picture, drawn from the layout.
MAP_BASE = "assets/map-base.svg"
ASSETS = ("assets/readinglist.css", "assets/map.css", MAP_BASE)


# Below this many papers a second process for half of the pages does not pay.
SPLIT_MIN_PAPERS = 2000
# Paper pages a process takes at a time when two share them.
PAGES_PER_CLAIM = 40


def produce(plan: Plan, *, parallel: bool = True) -> Iterator[tuple[str, str | bytes]]:
    """Make every page (Markdown text), asset and export (bytes) of *plan*: yields
    ``(name, content)`` in the order of ``plan.pages``, then ``plan.assets``, then
    ``plan.exports``, and returns notes for the build log.

    Made one by one, related papers are computed after the pages that do not need them,
    so a caller can use those meanwhile.  With *parallel*, where forking is safe, the map
    layout runs in a forked process, and a large list is made by two processes sharing
    the work (see :func:`_make_shared`), then handed out in the same order; the output is
    the same either way."""
    with collection_paused():
        if parallel and len(plan.view.visible) >= SPLIT_MIN_PAPERS and can_fork():
            return (yield from _make_shared(plan))
        g, view, options = plan.gathered, plan.view, plan.options
        renderer = Renderer(plan.templates_dir, {"site": view})
        yield from _static_pages(renderer, plan)
        pending = _start_layout(plan, background=parallel)
        compute_related(g.papers, options.related)
        yield from _paper_pages(renderer, view, view.visible).items()
        layout = pending.result()
        yield from _map_pages(renderer, plan, layout)
        yield from _exports(plan).items()
        return [_layout_note(layout)]


def _start_layout(plan: Plan, *, background: bool) -> PendingLayout:
    # The layout needs only the text vectors, the first half of computing related papers:
    # started before the other half, in a forked process it runs beside it.
    papers, options = plan.view.visible, plan.options
    return start_layout([p.id for p in papers], text_vectors(papers, options.related), options.cache_dir,
                        background=background)


def _make_shared(plan: Plan) -> Iterator[tuple[str, str | bytes]]:
    """Every file of *plan*, made by this process and a forked helper together, handed out
    in the plan's order (see :func:`produce`).

    Before related papers are computed, a process of lowest priority starts on the pages
    and data files that need neither them nor the map (index, listings, feeds, BibTeX,
    ...), using the moments the computation leaves the second core idle, and the layout
    starts in a process of its own.  Then a helper and this process take paper pages, a
    few at a time, until none is left, so that they finish together; this process also
    makes papers.json and, once the layout is there, the pages that draw the map.  Forked
    processes hand their files back through spools."""
    g, view, options = plan.gathered, plan.view, plan.options
    renderer = Renderer(plan.templates_dir, {"site": view})
    static_spool = Spool()

    def static_share() -> list[tuple[str, int, bool]]:
        static_spool.write(dict(_static_pages(renderer, plan)))
        static_spool.write(exports.exports_without_related(view, options, plan.templates_dir))
        return static_spool.contents()

    # The pages and files that need neither related papers nor the map are made in the
    # moments the work before the paper pages leaves the second core idle.
    static = Forked(static_share, background=True)
    pending = _start_layout(plan, background=True)
    compute_related(g.papers, options.related)
    papers = view.visible
    cursor = SharedCursor(len(papers), PAGES_PER_CLAIM)
    spool = Spool()

    def helper_share() -> list[tuple[str, int, bool]]:
        for claim in cursor.claims():
            spool.write(_paper_pages(renderer, view, papers[claim.start : claim.stop]))
        return spool.contents()

    helper = Forked(helper_share)
    made: dict[str, str | bytes] = exports.exports_with_related(_site(plan, {}, {}, {}), view)
    layout = None
    for claim in cursor.claims():
        made.update(_paper_pages(renderer, view, papers[claim.start : claim.stop]))
        if layout is None and pending.ready():
            layout = pending.result()
            made.update(_map_pages(renderer, plan, layout))
    if layout is None:
        layout = pending.result()
        made.update(_map_pages(renderer, plan, layout))
    try:
        made.update(static_spool.read(static.result()))
        made.update(spool.read(helper.result()))
    except WorkerError as exc:
        # A mistake in a template is reported as such; anything else with its story.
        raise exc.original if isinstance(exc.original, ContentError) else exc from None
    for name in [*plan.pages, *plan.assets, *plan.exports]:
        yield name, made.pop(name)
    return [_layout_note(layout)]


def _static_pages(renderer: Renderer, plan: Plan) -> Iterator[tuple[str, str]]:
    """The pages that need neither related papers nor the map."""
    g, view = plan.gathered, plan.view
    yield "index.md", renderer.page("index.md.j2", "index.md")
    yield "topics/index.md", renderer.page("topics.md.j2", "topics/index.md")
    yield "lists/index.md", renderer.page("lists.md.j2", "lists/index.md")
    for listing in g.listings:
        src = urls.listing_src(listing.id)
        yield src, renderer.page("listing.md.j2", src, listing=listing, view=view.listing_view(listing))
    yield "timeline.md", renderer.page("timeline.md.j2", "timeline.md", view=view.timeline_view())
    yield "status.md", renderer.page("status.md.j2", "status.md", view=view.status_view())
    for old, new in sorted(g.curation.redirects.items()):
        src = urls.paper_src(old)
        yield src, renderer.page("redirect.md.j2", src, target=view.by_id[new], target_url="../" + new + "/")


def _map_pages(renderer: Renderer, plan: Plan, layout: Layout) -> Iterator[tuple[str, str | bytes]]:
    """The pages drawing the map (topic pages, the map), then the assets."""
    view = plan.view
    view.set_layout(layout.positions, layout.method)
    for topic in view.topics:
        src = urls.topic_src(topic.id)
        yield src, renderer.page("topic.md.j2", src, topic=topic, view=view.topic_view(topic))
    yield "map.md", renderer.page("map.md.j2", "map.md", view=view.map_view("map.md"))
    for name in ASSETS:
        if name == MAP_BASE:
            yield name, renderer.page("map-base.svg.j2", name, path=view.map_path(view.visible)).encode("utf-8")
        else:
            yield name, (plan.templates_dir / name).read_bytes()


def _layout_note(layout: Layout) -> str:
    return f"map: {layout.method} layout of {len(layout.positions)} papers" + (" (cached)" if layout.cached else "")


def _paper_pages(renderer: Renderer, view: views.SiteView, papers: list[Paper]) -> dict[str, str]:
    pages = {}
    for paper in papers:
        src = urls.paper_src(paper.id)
        pages[src] = renderer.page("paper.md.j2", src, paper=paper, view=view.paper_view(paper))
    return pages


def _exports(plan: Plan) -> dict[str, bytes]:
    return exports.build_exports(_site(plan, {}, {}, {}), plan.view, plan.options, plan.templates_dir)


def build_site(content_dir: Path, templates_dir: Path, options: BuildOptions | None = None) -> Site:
    """Run the whole pipeline and return the pages (``{source path: Markdown}``), assets and
    exports of the site.  Raises ContentError listing every error in the content."""
    plan = plan_site(content_dir, templates_dir, options)
    made, notes = collect(produce(plan))
    site = _site(plan, {src: made[src] for src in plan.pages}, {name: made[name] for name in plan.assets},
                 {name: made[name] for name in plan.exports})
    site.notes.extend(notes)
    site.stats["seconds"] = round(time.perf_counter() - plan.started, 2)
    return site


def collect(items: Iterator[tuple[str, str | bytes]]) -> tuple[dict[str, str | bytes], list[str]]:
    """Everything :func:`produce` makes, by name, and the notes it returns."""
    made: dict[str, str | bytes] = {}
    while True:
        try:
            name, content = next(items)
        except StopIteration as end:
            return made, end.value
        made[name] = content


def _site(plan: Plan, pages: dict, assets: dict, made_exports: dict) -> Site:
    site = Site(
        pages=pages,
        assets=assets,
        exports=made_exports,
        listings=plan.gathered.listings,
        papers=plan.gathered.papers,
        topics=plan.view.topics,
        nav_pages=set(plan.nav_pages),
        warnings=list(plan.warnings),
    )
    site.view = plan.view
    site.options = plan.options
    site.stats = dict(plan.stats)
    return site


def summary_line(stats: dict[str, float], notes: list[str], seconds: float) -> str:
    """The one line the build log prints about the content (*stats* of a plan or site)."""
    s = stats
    return (
        f"{s['listings']:.0f} listings, {s['entries']:.0f} entries, {s['papers']:.0f} papers "
        f"({s['merged']:.0f} merged), {s['topics']:.0f} topics in {seconds:.2f} s"
    ) + "".join(f"; {note}" for note in notes)


__all__ = ["BuildOptions", "Plan", "build_site", "collect", "gather", "load_catalog", "plan_site", "produce", "read_content", "summary_line"]
