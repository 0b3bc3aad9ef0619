"""The pipeline: content folder in, pages and export data out.

Stages run in order (sources -> catalog -> overrides -> topics -> related -> render) and
everything is gathered before anything is rendered, because related papers and backlinks
form a graph over all papers.  Nothing here knows about MkDocs.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import exports, views
from .catalog import build_catalog
from .diagnostics import Diagnostics
from .models import Listing, Paper, Site
from .overrides import Curation, apply_curation, load_curation
from .layout import compute_layout
from .related import RelatedOptions, compute_related, text_vectors
from .render import Renderer
from .sources import load_listings
from .topics import Taxonomy, assign_topics, load_taxonomy
from . import urls


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
    g = read_content(content_dir, diagnostics)
    diagnostics.raise_if_errors()
    compute_related(g.papers, options.related)
    return g


def read_content(content_dir: Path, diagnostics: Diagnostics) -> Gathered:
    """Read, merge, curate and tag all content, recording (not raising) every problem, so
    that ``readinglist check`` can report on content the build would refuse."""
    content_dir = Path(content_dir)
    listings = load_listings(content_dir, diagnostics)
    catalog = build_catalog(listings)
    entry_count = sum(len(listing.entries) for listing in listings)
    curation = load_curation(content_dir, diagnostics)
    papers = apply_curation(catalog, curation, diagnostics)
    taxonomy_path = content_dir / "topics.yaml"
    taxonomy = load_taxonomy(taxonomy_path, diagnostics)
    visible = [p for p in papers if not p.hidden]
    assign_topics(visible, taxonomy, curation.manual_topics, diagnostics)
    return Gathered(listings, papers, taxonomy, curation, entry_count, entry_count - len(catalog))


def build_site(content_dir: Path, templates_dir: Path, options: BuildOptions | None = None) -> Site:
    """Run the whole pipeline and return the pages (``{source path: Markdown}``), assets and
    exports of the site.  Raises ContentError listing every error in the content."""
    started = time.perf_counter()
    options = options or BuildOptions()
    diagnostics = Diagnostics()
    g = gather(content_dir, options, diagnostics)
    site_view = views.SiteView(g.listings, g.papers, g.taxonomy, options)
    # The map layout (t-SNE, mostly native code that releases the GIL) runs beside the
    # rendering of every page that does not show the map; only the map and topic pages wait.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(compute_layout, [p.id for p in site_view.visible],
                              text_vectors(site_view.visible, options.related), options.cache_dir)
        pages = _render_pages(g, site_view, Path(templates_dir), pending)
    layout = pending.result()
    renderer = Renderer(Path(templates_dir), {"site": site_view})
    assets = {
        "assets/readinglist.css": (Path(templates_dir) / "assets" / "readinglist.css").read_bytes(),
        "assets/map.css": (Path(templates_dir) / "assets" / "map.css").read_bytes(),
        "assets/map-base.svg": renderer.page("map-base.svg.j2", "assets/map-base.svg",
                                             path=site_view.map_path(site_view.visible)).encode("utf-8"),
    }
    site = Site(
        pages=pages,
        assets=assets,
        exports={},
        listings=g.listings,
        papers=g.papers,
        topics=site_view.topics,
        nav_pages={"index.md", "topics/index.md", "lists/index.md", "timeline.md", "map.md"},
        warnings=[str(d) for d in diagnostics.warnings],
    )
    site.view = site_view
    site.options = options
    site.exports = exports.build_exports(site, site_view, options, Path(templates_dir))
    site.stats = {
        "listings": len(g.listings),
        "entries": g.entry_count,
        "papers": len(site_view.visible),
        "merged": g.merged,
        "topics": len(site_view.topics),
        "seconds": round(time.perf_counter() - started, 2),
    }
    site.notes.append(f"map: {layout.method} layout of {len(layout.positions)} papers" + (" (cached)" if layout.cached else ""))
    return site


def _render_pages(g: Gathered, site_view: views.SiteView, templates_dir: Path, layout: Future) -> dict[str, str]:
    """Every page of the site, in a fixed order; pages that draw the map wait for *layout*."""
    renderer = Renderer(templates_dir, {"site": site_view})
    pages: dict[str, str] = {}
    later: dict[str, str] = {}
    pages["index.md"] = renderer.page("index.md.j2", "index.md")
    pages["topics/index.md"] = renderer.page("topics.md.j2", "topics/index.md")
    for topic in site_view.topics:
        pages[urls.topic_src(topic.id)] = ""  # placeholder: keeps the page order fixed
    pages["lists/index.md"] = renderer.page("lists.md.j2", "lists/index.md")
    for listing in g.listings:
        src = urls.listing_src(listing.id)
        pages[src] = renderer.page("listing.md.j2", src, listing=listing, view=site_view.listing_view(listing))
    pages["timeline.md"] = renderer.page("timeline.md.j2", "timeline.md", view=site_view.timeline_view())
    pages["map.md"] = ""
    pages["status.md"] = renderer.page("status.md.j2", "status.md", view=site_view.status_view())
    for paper in site_view.visible:
        src = urls.paper_src(paper.id)
        pages[src] = renderer.page("paper.md.j2", src, paper=paper, view=site_view.paper_view(paper))
    for old, new in sorted(g.curation.redirects.items()):
        src = urls.paper_src(old)
        target = site_view.by_id[new]
        pages[src] = renderer.page("redirect.md.j2", src, target=target, target_url="../" + new + "/")
    done = layout.result()
    site_view.set_layout(done.positions, done.method)
    for topic in site_view.topics:
        src = urls.topic_src(topic.id)
        later[src] = renderer.page("topic.md.j2", src, topic=topic, view=site_view.topic_view(topic))
    later["map.md"] = renderer.page("map.md.j2", "map.md", view=site_view.map_view())
    pages.update(later)
    return pages


def summary_line(site: Site) -> str:
    """The one line the build log prints about the content."""
    s = site.stats
    return (
        f"{s['listings']:.0f} listings, {s['entries']:.0f} entries, {s['papers']:.0f} papers "
        f"({s['merged']:.0f} merged), {s['topics']:.0f} topics in {s['seconds']:.2f} s"
    ) + "".join(f"; {note}" for note in site.notes)


__all__ = ["BuildOptions", "build_site", "gather", "load_catalog", "read_content", "summary_line"]
