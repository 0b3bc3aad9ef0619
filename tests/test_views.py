"""What the views hand the templates: graphs, rows and links worked out once, the same as the
plain way of working them out."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np

from generator import escape, views
from generator.models import Listing, Paper, Related, Topic, TopicTag


def _site(papers: list[Paper], topics: list[Topic] = (), listings: list[Listing] = ()) -> views.SiteView:
    return views.SiteView(list(listings), papers, SimpleNamespace(topics=list(topics)),
                          SimpleNamespace(site_name="Test", site_description=""))


def _paper(pid: str, **fields) -> Paper:
    return Paper(id=pid, title=fields.pop("title", f"Paper {pid}"), abstract=fields.pop("abstract", ""),
                 raw_title="", raw_abstract="", **fields)


def _plain_edges(p: Paper, related: list[Paper]) -> list[tuple[str, str, bool]]:
    """Edges of a neighbourhood graph the plain way: every pair of papers once, in the order
    first seen, going through each paper's related list (the last node of an id stands for it)."""
    nodes = [p] + related
    index = {q.id: i for i, q in enumerate(nodes)}
    seen, out = set(), []
    for i, a in enumerate(nodes):
        for rel in a.related:
            j = index.get(rel.id)
            if j is None:
                continue
            pair = tuple(sorted((a.id, nodes[j].id)))
            if pair not in seen:
                seen.add(pair)
                out.append((i, j, p.id in pair))
    return out


def _segments(path: str) -> list[tuple[str, str, str, str]]:
    """The lines of SVG path data made of ``Mx yLx y`` segments."""
    return [tuple(" ".join(segment.split("L")).split()) for segment in path.split("M")[1:]]


def test_neighbourhood_edges_join_each_pair_once_in_the_order_first_seen():
    rng = random.Random(5)
    for _ in range(2000):
        ids = [f"p{i}" for i in range(rng.randint(1, 7))]
        papers = [_paper(i) for i in ids]
        for p in papers:
            # Related lists may name hidden papers, the paper itself, or a paper twice.
            p.related = [Related(id=rng.choice(ids + ["hidden"]), score=rng.random()) for _ in range(rng.randint(0, 5))]
        site = _site(papers)
        for p in papers:
            related = [(site.paper_link(site.by_id[r.id]), r) for r in p.related if r.id in site.by_id]
            graph = site.neighbourhood(p, related)
            if not related:
                assert graph is None
                continue
            places = [node.place.split() for node in graph.nodes]
            expected = [(*places[i], *places[j], central)
                        for i, j, central in _plain_edges(p, [site.by_id[r.id] for _, r in related])]
            # Lines to the paper of the page are drawn stronger, in a path of their own.
            assert _segments(graph.central) == [edge[:4] for edge in expected if edge[4]]
            assert _segments(graph.edges) == [edge[:4] for edge in expected if not edge[4]]


def test_neighbourhood_nodes_sit_around_the_paper():
    a, b, c = _paper("a", title="A *star*"), _paper("b"), _paper("c")
    a.related = [Related("b", 1.0), Related("c", 0.0)]
    b.related = [Related("c", 0.5)]
    site = _site([a, b, c])
    graph = site.neighbourhood(a, [(site.paper_link(b), a.related[0]), (site.paper_link(c), a.related[1])])
    centre, first, second = graph.nodes
    assert (centre.n, centre.place, centre.title, centre.href) == (0, "180.0 120.0", "A &#42;star&#42;", "")
    assert (first.n, first.place, first.href) == (1, "180.0 75.0", "../b/")  # straight up, as close as can be
    assert (second.n, second.place) == (2, "180.0 225.0")  # straight down, as far as can be
    assert graph.central == "M180.0 120.0L180.0 75.0M180.0 120.0L180.0 225.0"
    assert graph.edges == "M180.0 75.0L180.0 225.0"


def test_densest_point_is_found_as_by_comparing_every_pair():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 600))
        if trial % 3 == 0:
            pts = rng.uniform(0, 1000, (n, 2))
        elif trial % 3 == 1:
            pts = np.round(rng.uniform(0, 300, (n, 2)), 1)
        else:
            pts = rng.integers(0, 20, (n, 2)) * 35.0  # many pairs exactly 70 apart
        near = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1) < 70.0**2
        assert views._densest(pts, 70.0) == int(np.argmax(near.sum(1)))


def test_rows_are_escaped_once_and_linked_from_the_page_folder():
    p = _paper("x", title="Fast *and* [loose]", abstract="We do it. Then more.", status="reading", note="n")
    q = _paper("y")
    site = _site([p, q])
    top, = site.rows([p], "index.md")
    nested, = site.rows([p], "topics/t.md")
    assert top.link == "papers/x.md" and nested.link == "../papers/x.md"
    assert top.title == nested.title == escape.text(p.title)
    assert top.summary == "We do it."  # the first sentence
    assert (top.note, top.status, top.meta) == (True, "reading", None)
    assert site.rows([p], "topics/u.md")[0] is nested
    assert site.rows([q], "lists/l.md")[0].summary is None


def test_paper_view_lists_related_papers_with_their_reasons():
    topic = Topic(id="t", name="Topic T")
    p = _paper("p", topics=[TopicTag("t", 3.0, matched=["x"])])
    strong, weak = _paper("s", title="Strong"), _paper("w", title="Weak")
    p.related = [Related("s", 0.5, why=["t", "term"], shared_topics=["t"], shared_terms=["term", "b*c"]),
                 Related("w", 0.1, why=[], weak=True)]
    p.backlinks = ["s"]
    site = _site([p, strong, weak], [topic])
    view = site.paper_view(p)
    first, second = view.related
    assert (first.n, first.title, first.link, first.score, first.weak_start, first.why) == (1, "Strong", "s.md", "0.50", False, True)
    assert (first.topics, first.terms) == ("Topic T", "term, b&#42;c")
    assert (second.n, second.weak_start, second.why, second.topics, second.terms) == (2, True, False, None, None)
    assert [(b.title, b.link) for b in view.backlinks] == [("Strong", "s.md")]
    assert [tuple(chip) for chip in view.topics] == [("Topic T", "../topics/t.md", "matched x", False)]


def test_listing_view_keeps_each_paper_once_in_listing_order():
    listing = Listing(id="l", path=None, title="L")
    a, b, c = _paper("a", sources=["l", "l"]), _paper("b", sources=["m"]), _paper("c", sources=["m", "l"])
    view = _site([a, b, c], listings=[listing]).listing_view(listing)
    assert [p.id for p in view["papers"]] == ["a", "c"] and view["shared"] == 2


def test_map_counts_each_paper_under_its_main_topic():
    topics = [Topic(id="t1", name="One"), Topic(id="t2", name="Two"), Topic(id="t3", name="Three")]
    papers = [_paper(f"p{i}", topics=[TopicTag("t1" if i % 3 else "t2", 3.0)]) for i in range(9)]
    site = _site(papers, topics)
    site.set_layout({p.id: (float(10 * i), 20.0) for i, p in enumerate(papers)}, "test")
    view = site.map_view("map.md")
    assert [(t.id, n) for t, n in view["clusters"]] == [("t1", 6), ("t2", 3), ("t3", 0)]
    assert [(href, x, y) for href, x, y, _, _ in view["dots"]][:2] == [("../papers/p0/", 0.0, 20.0), ("../papers/p1/", 10.0, 20.0)]
    assert site.map_view("deeper/map.md")["dots"][0][0] == "../../papers/p0/"
    assert site.map_path(papers[:2]) == "M0 20h0M10 20h0"
