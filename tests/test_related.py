"""Related papers: quality on hand-labelled groups of the real corpus, determinism, stability
when a paper is added, explanations, hidden papers, backlinks, limits, block-wise
computation and the cache."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from generator import related as related_module
from generator.diagnostics import Diagnostics
from generator.models import Paper, TopicTag
from generator.pipeline import load_catalog
from generator.related import RelatedOptions, clear_cache, compute_related, text_features, text_vectors
from generator.workers import Forked

from .conftest import CONTENT, ROOT

GROUPS = yaml.safe_load((Path(__file__).parent / "data" / "related_groups.yaml").read_text(encoding="utf-8"))["groups"]
RECALL_BAR = 0.80


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


@functools.lru_cache(maxsize=None)
def _real_catalog() -> tuple[Paper, ...]:
    return tuple(load_catalog(CONTENT))


def real_papers() -> list[Paper]:
    """A fresh copy of the real corpus (compute_related writes into the papers)."""
    return copy.deepcopy(list(_real_catalog()))


def with_topics(papers: list[Paper]) -> bool:
    """Assign topics with the real taxonomy if that stage exists; False if it does not."""
    try:
        from generator.topics import assign_topics, load_taxonomy
    except ImportError:
        return False
    path = CONTENT / "topics.yaml"
    if not path.is_file():
        return False
    diagnostics = Diagnostics()
    taxonomy = load_taxonomy(path, diagnostics)
    assign_topics(papers, taxonomy, {}, diagnostics)
    diagnostics.raise_if_errors()
    return any(p.topics for p in papers)


def paper(pid: str, title: str, abstract: str, topics: tuple[str, ...] = (), hidden: bool = False) -> Paper:
    """A paper with just what similarity reads."""
    p = Paper(id=pid, title=title, abstract=abstract, raw_title=title, raw_abstract=abstract, hidden=hidden)
    p.topics = [TopicTag(topic=t, score=1.0) for t in topics]
    return p


def snapshot(papers: list[Paper]) -> dict:
    """Everything compute_related produced, comparable with ==."""
    return {
        p.id: (
            [(r.id, r.score, r.why, r.shared_topics, r.shared_terms) for r in p.related],
            list(p.backlinks),
        )
        for p in papers
    }


def recall_at(papers: list[Paper], k: int = 8) -> tuple[float, list[str]]:
    """Share of ordered pairs (a, b) within a labelled group with b in a's top k, and the misses."""
    by_id = {p.id: p for p in papers}
    hits, misses = 0, []
    for name, ids in GROUPS.items():
        for a in ids:
            top = [r.id for r in by_id[a].related[:k]]
            for b in ids:
                if a != b:
                    if b in top:
                        hits += 1
                    else:
                        misses.append(f"{name}: {a} -> {b}")
    return hits / (hits + len(misses)), misses


# A small corpus: two model-merging papers sharing a topic, one more merging paper without
# it, and unrelated ones.
TINY = [
    ("merge-a", "Adaptive Model Merging for Multi-Task Learning",
     "Model merging combines fine-tuned checkpoints into one multi-task network without "
     "retraining. We learn merging coefficients per layer with entropy minimisation.",
     ("model-merging", "multi-task-learning")),
    ("merge-b", "Sparse Masks Make Model Merging Scale",
     "We study model merging of many fine-tuned checkpoints and prune small task vector "
     "entries with sparse masks before merging coefficients are applied.",
     ("model-merging",)),
    ("merge-c", "Merging Models Trained from Scratch",
     "Merging models that were trained from different initialisations requires aligning "
     "neurons first; we propose permutation matching before merging.",
     ()),
    ("label-a", "Partial Labels in Multi-Label Image Classification",
     "Multi-label image classification with partial labels: most labels are missing, and we "
     "recover them with pseudo labels from a teacher network.",
     ("multi-label",)),
    ("speech-a", "Streaming Speech Recognition on Small Devices",
     "A streaming speech recogniser with a tiny memory footprint for phones and watches.",
     ()),
]


def tiny_papers(hidden: set[str] = frozenset()) -> list[Paper]:
    """The TINY corpus as papers, with the given ids hidden."""
    return [paper(pid, t, a, topics, hidden=pid in hidden) for pid, t, a, topics in TINY]


# --- quality on the real corpus ---------------------------------------------------------


def test_labelled_groups_name_real_papers():
    ids = {p.id for p in _real_catalog()}
    missing = [pid for group in GROUPS.values() for pid in group if pid not in ids]
    assert not missing
    assert len(GROUPS) >= 15


def test_recall_at_8_from_text_alone():
    papers = real_papers()
    assert not any(p.topics for p in papers)
    compute_related(papers)
    recall, misses = recall_at(papers)
    print(f"recall@8 without topics: {recall:.3f} ({len(misses)} misses)")
    assert recall >= RECALL_BAR, "\n".join(misses)


def test_recall_at_8_with_topics():
    papers = real_papers()
    if not with_topics(papers):
        pytest.skip("no topic stage or taxonomy in this tree")
    compute_related(papers)
    recall, misses = recall_at(papers)
    print(f"recall@8 with topics: {recall:.3f} ({len(misses)} misses)")
    assert recall >= RECALL_BAR, "\n".join(misses)


# --- determinism and stability ------------------------------------------------------------


def test_same_result_whatever_the_input_order():
    first = real_papers()
    compute_related(first)
    clear_cache()
    second = real_papers()
    random.Random(7).shuffle(second)
    compute_related(second)
    assert snapshot(first) == snapshot(second)
    assert sum(len(p.related) for p in first) > 1000


_DIGEST_SCRIPT = """
import hashlib, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from generator.pipeline import load_catalog
from generator.related import compute_related
papers = load_catalog(Path(sys.argv[1]) / "content")
compute_related(papers)
out = {p.id: [[r.id, r.score, r.why] for r in p.related] + [p.backlinks] for p in papers}
print(hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest())
"""


def test_same_result_whatever_the_hash_seed():
    papers = real_papers()
    compute_related(papers)
    out = {p.id: [[r.id, r.score, r.why] for r in p.related] + [p.backlinks] for p in papers}
    expected = hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest()
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, str(ROOT)], capture_output=True, text=True, env=env, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == expected


def _lists_change_only_where_the_newcomer_reaches(newcomer: Paper) -> set[str]:
    """Add *newcomer* to the real corpus and check that every list it does not enter is
    unchanged, unless its paper or one of the papers it lists shares a feature with the
    newcomer (only those features change weight).  Returns the ids of the lists entered."""
    before = real_papers()
    compute_related(before)
    after = real_papers()
    n = len(after)
    # The idf reference size is the corpus size rounded up to a power of two; this check
    # is about the ordinary case where adding one paper does not cross one.
    assert (n - 1).bit_length() == n.bit_length()
    compute_related(after + [newcomer])
    new_features = set(text_features(newcomer.title)) | set(text_features(newcomer.abstract))

    def features(pid: str) -> set[str]:
        p = by_id_before[pid]
        return set(text_features(p.title)) | set(text_features(p.abstract))

    by_id_before = {p.id: p for p in before}
    entered = set()
    for old, new in zip(before, after):
        old_ids = [r.id for r in old.related]
        new_ids = [r.id for r in new.related]
        if newcomer.id in new_ids:
            # Sharing words with the newcomer, this paper's other scores may move as well.
            entered.add(new.id)
            assert features(new.id) & new_features
            continue
        if old_ids == new_ids:
            assert [r.score for r in old.related] == [r.score for r in new.related] or any(
                features(i) & new_features for i in [old.id, *old_ids]
            )
            continue
        touched = [i for i in [old.id, *old_ids, *new_ids] if features(i) & new_features]
        assert touched, f"{old.id}: {old_ids} -> {new_ids} without any shared feature"
    return entered


def test_adding_a_paper_sharing_no_word_changes_nothing():
    newcomer = paper(
        "zz-newcomer",
        "Quokka Zygomorphy in Xylophagous Wombats",
        "Quokkas and wombats chew eucalyptus bark; xylophagous marsupials show zygomorphy.",
    )
    before = real_papers()
    compute_related(before)
    after = real_papers()
    corpus = {f for p in after for f in text_features(p.title) + text_features(p.abstract)}
    assert not corpus & set(text_features(newcomer.title) + text_features(newcomer.abstract))
    compute_related(after + [newcomer])
    assert snapshot(before) == snapshot(after)
    assert newcomer.related == [] and newcomer.backlinks == []


@pytest.mark.parametrize(
    "title, abstract",
    [
        (
            "Sourdough Fermentation Dynamics in Home Kitchens",
            "We measure how wild yeast and lactic acid bacteria in sourdough starters change over "
            "weeks of feeding with rye and wheat flour, and how temperature affects the rise of bread.",
        ),
        (
            "A Survey of Deep Learning for Weather Forecasting",
            "Deep learning models trained on large datasets of reanalysis data now rival numerical "
            "weather prediction. We review neural network architectures and training data for "
            "medium-range forecasting.",
        ),
    ],
)
def test_adding_a_paper_changes_only_lists_it_reaches(title, abstract):
    entered = _lists_change_only_where_the_newcomer_reaches(paper("zz-newcomer", title, abstract))
    if title.startswith("Sourdough"):
        assert not entered


# --- explanations, hidden papers, backlinks, limits -----------------------------------------


def test_explanation_names_shared_topic_then_shared_terms():
    papers = tiny_papers()
    compute_related(papers)
    a = next(p for p in papers if p.id == "merge-a")
    link = next(r for r in a.related if r.id == "merge-b")
    assert link.shared_topics == ["model-merging"]
    assert "model merging" in link.shared_terms
    assert link.why == link.shared_topics + link.shared_terms
    assert len(link.shared_terms) <= related_module.MAX_SHARED_TERMS
    # Without a shared topic there is nothing topical to say, only words.
    to_c = next(r for r in a.related if r.id == "merge-c")
    assert to_c.shared_topics == [] and to_c.why == to_c.shared_terms
    assert any("merging" in term for term in to_c.shared_terms)
    # The unrelated papers are not linked to the merging ones.
    assert {r.id for r in a.related} == {"merge-b", "merge-c"}


def test_shared_topics_raise_the_score_but_never_make_a_link():
    plain = tiny_papers()
    for p in plain:
        p.topics = []
    compute_related(plain)
    tagged = tiny_papers()
    for p in tagged:
        p.topics = [TopicTag(topic="everything", score=1.0)] + p.topics
    compute_related(tagged)
    strict = tiny_papers()
    for p in strict:
        p.topics = [TopicTag(topic="everything", score=1.0)] + p.topics
    compute_related(strict, RelatedOptions(min_count=0))

    def score(papers, a, b):
        return next(r.score for r in next(p for p in papers if p.id == a).related if r.id == b)

    assert score(tagged, "merge-a", "merge-b") > score(plain, "merge-a", "merge-b")
    # Every paper shares "everything", yet speech and merging share no specific word: no
    # link above the minimum score; a short list is filled only with weak text matches.
    assert next(p for p in strict if p.id == "speech-a").related == []
    speech = next(p for p in tagged if p.id == "speech-a")
    assert all(r.weak and r.shared_terms for r in speech.related)


def test_hidden_papers_get_no_list_and_appear_in_none():
    papers = tiny_papers(hidden={"merge-b"})
    compute_related(papers)
    hidden = next(p for p in papers if p.id == "merge-b")
    assert hidden.related == [] and hidden.backlinks == []
    for p in papers:
        assert "merge-b" not in [r.id for r in p.related]
        assert "merge-b" not in p.backlinks


def test_backlinks_are_the_incoming_links_not_already_listed():
    papers = real_papers()
    compute_related(papers)
    incoming: dict[str, list[tuple[float, str]]] = {p.id: [] for p in papers}
    for p in papers:
        for r in p.related:
            incoming[r.id].append((-r.score, p.id))
    some = 0
    for p in papers:
        listed = {r.id for r in p.related}
        expected = [pid for _, pid in sorted(incoming[p.id]) if pid not in listed]
        assert p.backlinks == expected
        assert not listed & set(p.backlinks)
        some += bool(p.backlinks)
    assert some > 20


@pytest.mark.parametrize("k, min_score", [(8, 0.08), (3, 0.15), (1, 0.0)])
def test_lists_respect_k_min_score_and_order(k, min_score):
    """At most k, best first, ties by id; below min_score only to fill a short list."""
    papers = real_papers()
    compute_related(papers, RelatedOptions(k=k, min_score=min_score))
    full = strong_full = 0
    for p in papers:
        assert len(p.related) <= k
        full += len(p.related) == k
        keys = [(-r.score, r.id) for r in p.related]
        assert keys == sorted(keys)
        assert len(set(r.id for r in p.related)) == len(p.related)
        strong = [r for r in p.related if not r.weak]
        strong_full += len(strong) == k
        assert p.related[: len(strong)] == strong  # weak ones only after the strong ones
        assert len(p.related) == len(strong) or len(p.related) <= RelatedOptions().min_count
        for r in p.related:
            assert r.id != p.id
            assert r.score >= min_score or (r.weak and r.score >= RelatedOptions().weak_score)
            assert round(r.score, 3) == r.score
    assert full > 0
    if min_score == 0:
        assert full == len(papers)  # every paper shares some word with another
    else:
        assert strong_full < len(papers)  # the bar cut some lists short


def test_ties_are_broken_by_id():
    twins = [paper(f"twin-{c}", "Mixture of Experts Routing", "Sparse expert routing for transformers.") for c in "dcab"]
    compute_related(twins)
    by_id = {p.id: p for p in twins}
    assert [r.id for r in by_id["twin-d"].related] == ["twin-a", "twin-b", "twin-c"]
    assert len({r.score for r in by_id["twin-d"].related}) == 1


@pytest.mark.parametrize("options", [RelatedOptions(), RelatedOptions(min_score=0.3, min_count=8)])
def test_lists_are_those_of_a_direct_computation(options):
    """Every pair scored from the full similarity matrix and ranked by the rules, without
    blocks, without computing each pair once only and without leaving out the columns of
    one paper: the same lists and scores (the second options fill many short lists)."""
    papers = real_papers()
    with_topics(papers)
    compute_related(papers, options)
    vectors = text_vectors(papers, options)
    similarity = (vectors @ vectors.T).toarray()
    topics = [set(p.topic_ids) for p in papers]
    topic_weight = options.topic_weight if any(topics) else 0.0
    lowest = min(options.min_score, options.weak_score)
    for i, p in enumerate(papers):
        scored = []
        for j, q in enumerate(papers):
            if j == i or similarity[i, j] == 0:
                continue
            union = len(topics[i] | topics[j])
            jaccard = len(topics[i] & topics[j]) / union if union else 0.0
            score = float(np.round(min(1.0, float(similarity[i, j]) * (1.0 + topic_weight * jaccard)), 3))
            if score >= lowest:
                scored.append((-score, q.id))
        scored.sort()
        expected = [
            (pid, -negative)
            for rank, (negative, pid) in enumerate(scored)
            if rank < options.k and (-negative >= options.min_score or rank < options.min_count)
        ]
        assert [(r.id, r.score) for r in p.related] == expected, p.id


def test_counts_are_those_of_text_features():
    """Features are counted for the whole corpus at once: the same as text_features of each
    title and abstract, for the full text and for the title block."""
    papers = real_papers()
    full, titles, names = related_module._count_features([(p.title, p.abstract) for p in papers])
    assert list(names) == sorted(names)
    for row, p in enumerate(papers):
        in_title = Counter(text_features(p.title))
        for matrix, counts in ((full, in_title + Counter(text_features(p.abstract))), (titles, in_title)):
            got = {names[column]: value for column, value in zip(matrix[row].indices, matrix[row].data)}
            assert got == {feature: np.float32(1.0 + np.log(count)) for feature, count in counts.items()}


# --- block-wise computation, workers, cache -------------------------------------------------


def test_small_blocks_give_the_same_result_as_one_block(monkeypatch):
    whole = real_papers()
    compute_related(whole, RelatedOptions(chunk_size=100_000))
    clear_cache()
    blocks = real_papers()
    compute_related(blocks, RelatedOptions(chunk_size=7))
    assert snapshot(whole) == snapshot(blocks)
    # The cap on rows x corpus size splits the work too, whatever chunk_size says.
    clear_cache()
    capped = real_papers()
    products: list[tuple[int, int]] = []
    original = related_module._Ranker.block

    def spy(self, start, step):
        products.append((min(step, self.matrix.shape[0] - start), self.matrix.shape[0]))
        return original(self, start, step)

    monkeypatch.setattr(related_module, "_MAX_BLOCK_CELLS", 5 * len(capped))
    monkeypatch.setattr(related_module._Ranker, "block", spy)
    compute_related(capped, RelatedOptions(chunk_size=100_000))
    assert snapshot(whole) == snapshot(capped)
    assert max(rows for rows, _ in products) == 5
    assert len(products) == -(-len(capped) // 5)


def test_worker_processes_give_the_same_result():
    options = RelatedOptions(processes=2, chunk_size=40)
    if related_module._processes(options, 300) != 2:
        pytest.skip("worker processes are not available here")
    serial = real_papers()
    compute_related(serial, RelatedOptions(processes=1, chunk_size=40))
    clear_cache()
    parallel = real_papers()
    compute_related(parallel, options)
    assert snapshot(serial) == snapshot(parallel)


def test_features_read_in_two_processes_are_the_same(monkeypatch):
    papers = real_papers()
    texts = [(p.title, p.abstract) for p in sorted(papers, key=lambda p: p.id)]
    alone = related_module._count_features(texts)
    monkeypatch.setattr(related_module, "_SPLIT_MIN_TEXTS", 2)
    monkeypatch.setattr(related_module, "_TEXTS_PER_CLAIM", 7)  # both processes take some
    monkeypatch.setattr(related_module, "can_fork", lambda: True)
    forked = []
    monkeypatch.setattr(related_module, "Forked", lambda work: forked.append(1) or Forked(work))
    split = related_module._count_features(texts)
    assert forked == [1]
    assert list(split[2]) == list(alone[2])  # the same feature names, in the same columns
    for ours, theirs in zip(split[:2], alone[:2]):
        assert (ours != theirs).nnz == 0 and ours.shape == theirs.shape


def test_cache_serves_repeats_with_fresh_objects(monkeypatch):
    calls = []
    original = related_module._compute
    monkeypatch.setattr(related_module, "_compute", lambda *a: calls.append(1) or original(*a))
    first = tiny_papers()
    compute_related(first)
    first[0].related[0].why.append("edited by a caller")
    first[0].related.clear()
    second = tiny_papers()
    random.Random(1).shuffle(second)
    compute_related(second)
    assert len(calls) == 1
    fresh = tiny_papers()
    clear_cache()
    compute_related(fresh)
    assert snapshot(sorted(second, key=lambda p: p.id)) == snapshot(fresh)
    # Any change to an input is a different key.
    changed = tiny_papers()
    changed[2].abstract += " Also about sparse masks and task vectors."
    compute_related(changed)
    assert len(calls) == 3
    changed_topics = tiny_papers()
    changed_topics[2].topics = [TopicTag(topic="model-merging", score=1.0)]
    compute_related(changed_topics)
    assert len(calls) == 4
    changed_hidden = tiny_papers()
    changed_hidden[1].hidden = True
    compute_related(changed_hidden)
    assert len(calls) == 5
    compute_related(tiny_papers(), RelatedOptions(k=3))
    assert len(calls) == 6
    hidden_again = tiny_papers()
    hidden_again[1].hidden = True
    compute_related(hidden_again)
    assert len(calls) == 6  # an input seen lately, in other objects: still cached


def test_text_vectors_reuse_the_work_of_compute_related(monkeypatch):
    papers = real_papers()
    papers[0].hidden = True
    compute_related(papers)
    counted = []
    original = related_module._count_features
    monkeypatch.setattr(related_module, "_count_features", lambda *a: counted.append(1) or original(*a))
    visible = [p for p in papers if not p.hidden][::-1]
    assert text_vectors(visible).shape[0] == len(papers) - 1
    assert counted == []


def test_text_vectors_follow_the_given_order():
    papers = real_papers()[:40]
    matrix = text_vectors(papers)
    shuffled = papers[:]
    random.Random(3).shuffle(shuffled)
    again = text_vectors(shuffled)
    position = {p.id: i for i, p in enumerate(shuffled)}
    assert matrix.shape[0] == 40
    assert (abs(matrix - again[[position[p.id] for p in papers]]) > 0).nnz == 0
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)


# --- features -------------------------------------------------------------------------------


def test_features_fold_spellings_and_skip_boilerplate():
    features = text_features(
        "Multi-task learning with MoE layers. Our code is available at https://github.com/x/y."
    )
    assert "multitask" in features
    assert "mixture of expert" in features
    assert not any("github" in f or "available" in f or f == "code" for f in features)


def test_generic_words_count_only_inside_phrases():
    features = text_features("We propose a novel model merging method.")
    assert "model merging" in features
    assert "model" not in features and "propose" not in features and "method" not in features
    # Phrases never cross a clause boundary.
    assert "merging vision" not in text_features("Model merging. Vision transformers.")


def test_ids_must_be_unique():
    with pytest.raises(ValueError):
        compute_related([paper("a", "One", "x y z"), paper("a", "Two", "x y z")])


def test_texts_without_features_give_empty_lists():
    papers = [paper("a", "The of and", ""), paper("b", "", ""), paper("c", "It is", "was")]
    compute_related(papers)
    assert all(p.related == [] and p.backlinks == [] for p in papers)
    assert text_vectors(papers).shape[0] == 3
    compute_related([])
    alone = paper("alone", "Model merging", "Merging models.")
    compute_related([alone])
    assert alone.related == []


def test_papers_with_topics_but_no_pair_to_score_get_empty_lists():
    # Topics are known, but no two papers share a word: no pair is scored at all.
    papers = [
        paper("a", "Quantum annealing schedules", "Annealing hardware.", topics=("physics",)),
        paper("b", "Protein folding kinetics", "Folding enzymes.", topics=("biology",)),
    ]
    compute_related(papers, RelatedOptions(min_count=0))
    assert [(p.related, p.backlinks) for p in papers] == [([], []), ([], [])]
