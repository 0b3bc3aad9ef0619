"""Work made in a forked process and fetched by name as it is needed."""

from __future__ import annotations

import os
import signal
import time

import pytest

from generator.diagnostics import ContentError, Diagnostic, Location
from generator.workers import Background, Forked, SharedCursor, Spool, WorkerError


def _pages(n: int):
    def produce():
        for i in range(n):
            yield f"p{i}", f"page {i} " * 50  # several batches
        return {"made": n, "pid": os.getpid()}

    return produce


def test_items_arrive_by_name_in_any_order_then_the_result():
    background = Background(_pages(3000))
    try:
        assert background.get("p2999") == "page 2999 " * 50
        assert background.get("p0") == "page 0 " * 50
        result = background.finish()
        assert result["made"] == 3000 and result["pid"] != os.getpid()
        with pytest.raises(KeyError, match="no item 'p0'"):
            background.get("p0")  # handed out once
    finally:
        background.close()


def test_a_failure_in_the_child_comes_back_with_its_exception():
    def produce():
        yield "first", "made before the failure"
        raise ContentError([Diagnostic("error", "bad template", Location("paper.md.j2", 3))])

    background = Background(produce)
    try:
        assert background.get("first") == "made before the failure"
        with pytest.raises(WorkerError) as caught:
            background.get("second")
        assert isinstance(caught.value.original, ContentError)
        assert str(caught.value.original) == "1 error in content:\n  paper.md.j2:3: bad template"
        assert "Traceback" in str(caught.value)
    finally:
        background.close()


def test_a_child_that_dies_is_reported_not_waited_for():
    def produce():
        os.kill(os.getpid(), signal.SIGKILL)
        yield "never", ""

    background = Background(produce)
    try:
        with pytest.raises(WorkerError, match=r"stopped unexpectedly \(exit code -9\)"):
            background.finish()
    finally:
        background.close()


def test_topics_scored_and_features_read_in_two_processes_are_the_same(monkeypatch, small_content):
    from generator import related, topics
    from generator.diagnostics import Diagnostics
    from generator.pipeline import read_content

    reads = []
    read_features = related.read_features
    monkeypatch.setattr(related, "read_features", lambda texts, parts: reads.append(parts) or read_features(texts, parts))

    def read() -> tuple[dict[str, list], tuple]:
        related.clear_cache()
        papers = read_content(small_content, Diagnostics(), for_related=True).papers
        tags = {p.id: [(t.topic, t.score, t.matched, t.inherited_from) for t in p.topics] for p in papers}
        visible = [(p.title, p.abstract) for p in papers if not p.hidden]
        read_along = len(related._READ) == 1  # read with the topics: not read again here
        counts = related._count_features(visible)
        assert not related._READ
        return tags, counts, read_along

    alone, alone_counts, read_along = read()
    assert reads == [] and not read_along  # one process: features are read when needed
    reads.clear()
    monkeypatch.setattr(topics, "SPLIT_MIN_PAPERS", 2)
    monkeypatch.setattr(topics, "PAPERS_PER_CLAIM", 1)
    score = topics.Taxonomy._score_normalised
    # Slow enough that the helper, started a little later, takes papers too.
    monkeypatch.setattr(topics.Taxonomy, "_score_normalised", lambda *a: time.sleep(0.1) or score(*a))
    monkeypatch.setattr(topics, "can_fork", lambda: True)
    forked = []
    monkeypatch.setattr(topics, "Forked", lambda work: forked.append(1) or Forked(work))
    together, counts, read_along = read()
    assert together == alone and forked == [1] and read_along
    assert any(t for ts in alone.values() for t in ts)
    # This process read the features of the papers it scored, the helper the others'.
    mine = sum(len(r) for r in reads[0])
    assert 0 < mine < 2 * len(alone) and all(len(r) % 2 == 0 for r in reads[0])
    assert list(counts[2]) == list(alone_counts[2])  # the same feature names, in the same columns
    for ours, theirs in zip(counts[:2], alone_counts[:2]):
        assert (ours != theirs).nnz == 0 and ours.shape == theirs.shape


def test_listings_read_in_two_processes_are_the_same(monkeypatch, small_content):
    from generator import catalog, pipeline
    from generator.diagnostics import Diagnostics

    (small_content / "sources" / "empty.txt").write_text("Daily Papers\n", encoding="utf-8")  # two warnings

    def read() -> tuple[list, list[str], set[str]]:
        diagnostics = Diagnostics()
        monkeypatch.setattr(catalog, "_IDS", {})
        monkeypatch.setattr(catalog, "_CLEANED", {})
        g = pipeline.read_content(small_content, diagnostics)
        papers = [(p.id, p.title, p.abstract, p.sources, p.origins) for p in g.papers]
        return papers, [str(d) for d in diagnostics.items], {e.title for x in g.listings for e in x.entries}

    alone = read()
    monkeypatch.setattr(pipeline, "READ_SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "can_fork", lambda: True)
    forked = []
    monkeypatch.setattr(pipeline, "Forked", lambda work: forked.append(1) or Forked(work))
    here = []
    read_entries = pipeline.read_entries
    # Slow enough that the helper, started a little later, takes listings too.
    monkeypatch.setattr(pipeline, "read_entries",
                        lambda listing, found: here.append(listing.id) or time.sleep(0.1) or read_entries(listing, found))
    together = read()
    assert forked == [1] and together == alone
    assert any("empty.txt" in d for d in alone[1]) and alone[0]
    assert len(here) == 1  # of the two listings: the helper read the other
    # The helper's paper ids were handed over with its entries: none is worked out again.
    assert set(catalog._IDS) == alone[2]


def test_pages_made_with_a_helper_process_are_the_same(monkeypatch, small_content):
    from generator import pipeline

    from .conftest import TEMPLATES

    def made(parallel: bool) -> dict:
        plan = pipeline.plan_site(small_content, TEMPLATES)
        return pipeline.collect(pipeline.produce(plan, parallel=parallel))[0]

    alone = made(False)
    monkeypatch.setattr(pipeline, "SPLIT_MIN_PAPERS", 2)
    monkeypatch.setattr(pipeline, "PAGES_PER_CLAIM", 1)  # both processes take paper pages
    monkeypatch.setattr(pipeline, "can_fork", lambda: True)
    helped = []
    monkeypatch.setattr(pipeline, "Forked", lambda work, **how: helped.append(how) or Forked(work, **how))
    together = made(True)
    assert helped == [{"background": True}, {}]  # the pages needing nothing else, then paper pages
    assert list(together) == list(alone) and together == alone
    assert any(name.startswith("papers/") for name in alone) and "papers.json" in alone


def test_a_shared_list_is_worked_through_once_by_two_processes():
    cursor = SharedCursor(total=103, step=5)

    def share() -> list[int]:
        taken = []
        for claim in cursor.claims():
            taken.extend(claim)
            time.sleep(0.01)  # give the other process its turns
        return taken

    helper = Forked(share)
    here = share()
    there = helper.result()
    assert sorted(here + there) == list(range(103))
    assert here and there
    assert list(cursor.claims()) == []


def test_work_in_a_worker_stays_in_that_worker():
    from generator.related import RelatedOptions, _processes
    from generator.workers import can_fork

    def produce():
        yield "can_fork", can_fork()
        yield "processes", _processes(RelatedOptions(processes=2), 100_000)

    background = Background(produce)
    try:
        assert background.get("can_fork") is False  # a daemon process may not fork workers
        assert background.get("processes") == 1
    finally:
        background.close()


def test_a_paused_section_freezes_what_it_leaves_until_released():
    import gc
    import weakref

    from generator.memory import collection_paused, release

    class Node:
        pass

    release()
    with collection_paused():
        with collection_paused():
            cycle = Node()
            cycle.me = cycle
        assert not gc.isenabled() and gc.get_freeze_count() == 0  # only the outermost section freezes
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is not None  # frozen: collections pass it by
    release()
    gc.collect()
    assert gone() is None and gc.get_freeze_count() == 0


def test_mkdocs_serve_hands_frozen_objects_back_after_each_build():
    import gc

    from generator.plugin import ReadingListPlugin

    plugin = ReadingListPlugin()
    plugin.on_startup(command="build", dirty=False)
    gc.freeze()
    plugin.on_post_build(None)
    assert gc.get_freeze_count() > 0  # a one-off build ends with its process
    plugin.on_startup(command="serve", dirty=False)
    plugin.on_post_build(None)
    assert gc.get_freeze_count() == 0


def test_texts_come_back_through_a_spool_as_written():
    spool = Spool()

    def write() -> list[tuple[str, int]]:
        spool.write({"a.md": "# Ä\n", "b.md": ""})
        spool.write({"c.md": "✎ " * 10_000})
        return spool.contents()

    texts = spool.read(Forked(write).result())
    assert texts == {"a.md": "# Ä\n", "b.md": "", "c.md": "✎ " * 10_000}
    assert list(texts) == ["a.md", "b.md", "c.md"]


def test_files_and_empty_items_come_back_through_a_spool():
    spool = Spool()

    def write() -> list[tuple[str, int, bool]]:
        spool.write({"map.svg": b"<svg/>", "empty.md": ""})
        spool.write({"none.bin": b""})
        return spool.contents()

    assert spool.read(Forked(write).result()) == {"map.svg": b"<svg/>", "empty.md": "", "none.bin": b""}
    nothing = Spool()
    assert nothing.read(Forked(lambda: (nothing.write({"a.md": ""}), nothing.contents())[1]).result()) == {"a.md": ""}


def test_a_background_process_runs_at_the_lowest_priority():
    here = os.nice(0)
    assert Forked(lambda: os.nice(0), background=True).result() == min(19, here + 19)
    assert Forked(lambda: os.nice(0)).result() == here
