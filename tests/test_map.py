"""The map of the field: a deterministic, cached layout drawn as accessible inline SVG."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from generator import layout
from generator.layout import HEIGHT, WIDTH, compute_layout
from generator.workers import Forked

from .test_escaping import parse


def _matrix(n: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, 40)) < 0.15) * rng.random((n, 40))
    dense[np.arange(n), np.arange(n) % 40] += 1.0  # no empty rows
    return sp.csr_matrix(dense)


def test_layout_is_deterministic_and_inside_the_box():
    ids = [f"p{i:03d}" for i in range(60)]
    layout.clear_cache()
    first = compute_layout(ids, _matrix(60))
    layout.clear_cache()
    second = compute_layout(ids, _matrix(60))
    assert first.positions == second.positions and first.method == "t-SNE"
    xs = [x for x, _ in first.positions.values()]
    ys = [y for _, y in first.positions.values()]
    assert 0 <= min(xs) and max(xs) <= WIDTH and 0 <= min(ys) and max(ys) <= HEIGHT
    assert all(round(v, 1) == v for v in xs + ys)


def test_layout_made_in_a_forked_process_is_the_same(monkeypatch, tmp_path: Path):
    ids = [f"p{i:03d}" for i in range(60)]
    layout.clear_cache()
    here = compute_layout(ids, _matrix(60))
    layout.clear_cache()
    started = []
    monkeypatch.setattr(layout, "can_fork", lambda: True)  # even if the test runner has threads
    monkeypatch.setattr(layout, "Forked", lambda work, **kw: started.append(kw) or Forked(work, **kw))
    pending = layout.start_layout(ids, _matrix(60), tmp_path)
    away = pending.result()
    assert started == [{"background": False}] and away.positions == here.positions and away.method == here.method
    # A quick SVD layout is made at the lowest priority: it only takes the time other work leaves.
    monkeypatch.setattr(layout, "TSNE_LIMIT", 10)
    layout.clear_cache()
    svd = compute_layout(ids, _matrix(60))
    layout.clear_cache()
    away = layout.start_layout(ids, _matrix(60)).result()
    assert started[1:] == [{"background": True}] and away.method == svd.method == "SVD"
    assert away.positions == svd.positions
    assert not away.cached and compute_layout(ids, _matrix(60), tmp_path).cached  # stored as usual


def test_layout_is_cached_by_content(tmp_path: Path):
    ids = [f"p{i}" for i in range(30)]
    layout.clear_cache()
    cold = compute_layout(ids, _matrix(30), tmp_path)
    assert not cold.cached and len(list(tmp_path.glob("layout-*.json"))) == 1
    layout.clear_cache()
    warm = compute_layout(ids, _matrix(30), tmp_path)  # from disk
    assert warm.cached and warm.positions == cold.positions
    changed = compute_layout(ids, _matrix(30, seed=1), tmp_path)
    assert not changed.cached and len(list(tmp_path.glob("layout-*.json"))) == 2


def test_large_corpus_uses_the_cheaper_layout(monkeypatch):
    monkeypatch.setattr(layout, "TSNE_LIMIT", 20)
    layout.clear_cache()
    result = compute_layout([f"p{i}" for i in range(50)], _matrix(50))
    assert result.method == "SVD" and len(result.positions) == 50


_THREADS_PROBE = """
import json, numpy as np, scipy.sparse as sp, threadpoolctl
from generator import layout
seen = []
limits = threadpoolctl.threadpool_limits
class Probe(limits):
    def __enter__(self):
        super().__enter__()
        seen.append(sorted((i["internal_api"], i["num_threads"]) for i in threadpoolctl.threadpool_info()))
        return self
threadpoolctl.threadpool_limits = Probe
rng = np.random.default_rng(0)
matrix = sp.csr_matrix(rng.random((40, 30)))
layout._coordinates(matrix)
layout.TSNE_LIMIT = 10
layout._coordinates(matrix)
print(json.dumps(seen))
"""


def test_layout_uses_one_thread_of_every_pool():
    # Beside MkDocs, the layout has one core: OpenMP (t-SNE) or BLAS (ARPACK) threads would
    # take the other process's.  Run in a fresh process, where nothing has loaded them yet.
    out = subprocess.run([sys.executable, "-c", _THREADS_PROBE], capture_output=True, text=True, check=True)
    tsne, svd = json.loads(out.stdout)
    assert ["openmp", 1] in tsne and ["openblas", 1] in tsne and ["openblas", 1] in svd
    assert all(threads == 1 for _, threads in tsne + svd)


def test_tiny_corpora_do_not_fail():
    layout.clear_cache()
    assert compute_layout([], sp.csr_matrix((0, 0))).positions == {}
    assert len(compute_layout(["a", "b"], _matrix(2)).positions) == 2


def test_map_page_draws_every_paper_as_a_link(built_site: Path):
    html = (built_site / "map" / "index.html").read_text(encoding="utf-8")
    data = json.loads((built_site / "papers.json").read_text(encoding="utf-8"))
    svg = html.split('<svg class="rl-map__svg"', 1)[1].split("</svg>", 1)[0]
    hrefs = re.findall(r'<a xlink:href="\.\./papers/([^/"]+)/"><circle', svg)
    assert sorted(hrefs) == sorted(p["id"] for p in data["papers"])
    doc = parse(html)
    titles = doc.texts.get("title", [])
    assert any("Map of 295 papers" in t for t in titles)
    assert 'role="img"' in svg.split(">", 1)[0] and "aria-labelledby" in svg.split(">", 1)[0]
    # A text alternative to the picture: the papers by main topic, linking topic pages.
    assert "Papers by main topic" in html and html.count('href="../topics/') >= 10
    assert len(html.encode()) < 2_000_000


def test_topic_pages_highlight_their_papers(built_site: Path):
    html = (built_site / "topics" / "mixture-of-experts" / "index.html").read_text(encoding="utf-8")
    path = re.search(r'<path class="rl-minimap__hl" d="([^"]*)"', html).group(1)
    n = len(re.findall(r"<li>", html.split('id="papers"', 1)[1]))
    assert path.count("h0") == n > 0
    assert 'xlink:href="../../assets/map-base.svg"' in html and (built_site / "assets" / "map-base.svg").is_file()


def test_paper_pages_show_their_neighbourhood(built_site: Path):
    page = built_site / "papers" / "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale" / "index.html"
    html = page.read_text(encoding="utf-8")
    graph = html.split('<figure class="rl-graph">', 1)[1].split("</figure>", 1)[0]
    related = html.split('id="related"', 1)[1].split("</ol>", 1)[0]
    n = related.count("<li>")
    assert graph.count('class="rl-node"') == n and graph.count("rl-node--self") == 1
    # A line from the paper to each of its related papers, drawn stronger than the rest.
    central = re.search(r'<path class="rl-edge--centre" d="([^"]*)"', graph).group(1)
    assert central.count("M180.0 120.0L") == central.count("M") == n
    for target in re.findall(r'<a xlink:href="\.\./([^/"]+)/" class="rl-node"', graph):
        assert (page.parent.parent / target / "index.html").is_file()
