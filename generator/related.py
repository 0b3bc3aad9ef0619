"""Related papers: text similarity blended with topic overlap, explained, with backlinks.

Each visible paper gets up to ``k`` related papers, best first, each with reasons a reader
can check: the topics both papers carry and the terms that contribute most to their text
similarity.  A paper's backlinks are the papers that list it without being in its own list,
so the link graph can be walked both ways.

Text similarity is the cosine of tf-idf vectors (sublinear tf, l2 norm) over words read
through :func:`generator.textnorm.normalise`, with the title counted twice: once inside the
full text and once as a separate title block, because a title names the contribution while
an abstract also carries background.  Writing vocabulary ("propose", "results", "task", ...)
never counts on its own, but may be part of a two-word phrase ("model merging").

The N x N similarity matrix is never built: a block of rows is multiplied against the whole
corpus at a time and only the best ``k`` of each row are kept.  Large corpora are read and
ranked in worker processes.  Results are cached by a hash of every input, so a live rebuild
whose papers did not change does no work.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from .models import Paper, Related
from .textnorm import CLAUSE_BREAK, clause_text, normalise, raw_clauses
from .workers import can_fork, cpu_count, fork_pool


@dataclass
class RelatedOptions:
    """How many related papers to show, how they are scored and how the work is split."""

    # A page has room for a short list; eight reaches every paper of a small cluster
    # without padding the list with loosely related ones.
    k: int = 8
    # On the real corpus, pairs below about 0.08 mostly share generic phrases only
    # ("large language model"); showing them would suggest a link that is not there.
    min_score: float = 0.08
    # A paper with fewer than min_count pairs above min_score still gets its best pairs
    # down to weak_score, marked weak on the page, so that no paper is a dead end.
    min_count: int = 3
    weak_score: float = 0.02
    # Score = min(1, text similarity x (1 + topic_weight x Jaccard of topic ids)).  Topics
    # boost papers whose texts are alike but never link papers sharing no words, and a
    # paper without topics keeps its plain text scores.  Topics come from a hand-written
    # taxonomy, precise but coarse (a quarter of the papers share "multi-task learning"),
    # so they raise a score by a fifth at most.
    topic_weight: float = 0.2
    # Rows per block product; capped further so that rows x corpus size stays within
    # _MAX_BLOCK_CELLS whatever the corpus size.
    chunk_size: int = 2048
    # Weight of the title-only block relative to the full text (title + abstract).
    title_weight: float = 0.7
    # Features found in more papers than this never count: they cost df**2 multiplications
    # and say little about any one paper.  Far above the size of a reading list, so there
    # it changes nothing; on 100,000 papers it keeps block products sparse.
    max_df: int = 1000
    # Worker processes; 0 chooses one per CPU (up to 4) for corpora of _PARALLEL_MIN_PAPERS
    # or more and none below (see _processes).  The result is the same whatever the number.
    processes: int = 0


# Shown terms per related paper; more than four reads as noise on a page.
MAX_SHARED_TERMS = 4

# Upper bound on rows x corpus size per block product: even if every pair of a block shared
# a feature, its result would stay near 128 MB.
_MAX_BLOCK_CELLS = 1 << 24

# Forked workers start at once, but splitting the work and merging the results costs about
# what the second core saves below a few thousand papers (no gain measured at 3,000; 1.5 s
# of 6.7 s saved at 10,000).
_PARALLEL_MIN_PAPERS = 5_000

# Words that say how a paper is written rather than what it is about, picked from the
# words found in the most abstracts of the corpus.  They never count on their own but may
# take part in a phrase whose other word is specific ("model merging", "task vector").
GENERIC_WORDS = frozenset(
    """
    ability able achieve achieved achieves achieving additional additionally address
    addressing aim aims al allow allows analysis application approach approache art
    available best better capability challenge challenging com compared comparison
    competitive comprehensive consequently considerable consistent consistently critical
    crucial current currently demonstrate demonstrated demonstrates design designed
    despite develop developed development different diverse effective effectively
    effectiveness enable enables enabling enhance enhanced enhancement enhancing
    essential et evaluate evaluated example existing experiment experimental extensive
    extensively finally fine framework fully furthermore general github good high http
    https important improve improved improvement improves improving innovative insight
    introduce introduced introduces key large lead leads level leverage leverages
    limitation limited low make makes method model moreover multi multiple need needs
    new notably novel number occur often open org outperform outperforming outperforms
    overall paper perform performance performing potential present presents previous
    prior problem process promising propose proposed proposes provide provides providing
    range real recent recently remain remains require required requires research result
    set setting show showing shown shows significant significantly simple simultaneously
    single source specific specifically state strategy strong studies study substantial
    substantially superior task technique typically use used uses various way ways wide
    widely work www
    """.split()
)
# Stop words end a phrase and never count: English function words (articles, pronouns,
# prepositions, conjunctions, auxiliaries, quantifiers and the like), and words that glue
# phrases badly ("based multitask", "using transformer").  They are compared with
# normalised words, so each is normalised too ("others" -> "other").
ENGLISH_FUNCTION_WORDS = """
    a about above across after afterwards again against all almost alone along already
    also although always am among amongst an and another any anyhow anyone anything anyway
    anywhere are around as at be became because become becomes becoming been before
    beforehand behind being below beside besides between beyond both but by can cannot
    could did do does doing done down due during each either else elsewhere enough even
    ever every everyone everything everywhere except few for former formerly from further
    had has have having he hence her here hereafter hereby herein hers herself him himself
    his how however i if in indeed into is it its itself just last latter latterly least
    less many may me meanwhile might mine more most mostly much must my myself namely
    neither never nevertheless next no nobody none noone nor not nothing now nowhere of off
    on once one only onto or other others otherwise our ours ourselves out over own per
    perhaps rather same several she should since so some somehow someone something
    sometime sometimes somewhere still such than that the their theirs them themselves
    then thence there thereafter thereby therefore therein thereupon these they this those
    though through throughout thus to together too toward towards under until up upon us
    very via was we well were what whatever when whence whenever where whereafter whereas
    whereby wherein whereupon wherever whether which while whither who whoever whole whom
    whose why will with within without would yet you your yours yourself yourselves
    eg ie etc vs re
    zero two three four five six seven eight nine ten eleven twelve twenty fifty hundred
    first second third
    get gets give gives go goes keep keeps put puts see seem seems take takes made find
    found call describe describes
    based using leveraging including like given versus
"""
_STOP_WORDS = frozenset(normalise(ENGLISH_FUNCTION_WORDS).split())
# Clause boundaries are stop words too: no phrase spans one.
_BREAK = CLAUSE_BREAK
_STOP_WORDS |= {_BREAK}
# Marks title-block features in the vectorizer vocabulary; normalised words never contain it.
_TITLE_MARK = "^"

# "Code and models are available at ..." ends a third of the abstracts and says nothing
# about the subject; without this, "code available" would link unrelated papers.
_BOILERPLATE = re.compile(
    r"\b(?:code|models?|data(?:sets?)?|weights|checkpoints|implementation|resources?)\b"
    r".*\b(?:available|released?|open[- ]sourced?)\b",
    re.IGNORECASE,
)


def compute_related(papers: list[Paper], options: RelatedOptions | None = None) -> None:
    """Set ``related`` and ``backlinks`` of every paper in *papers*, in place.

    ``related`` holds at most ``options.k`` visible papers scoring at least
    ``options.min_score``, best first (scores rounded to three decimals, ties broken by
    id), each explained by shared topics and terms.  ``backlinks`` holds the ids of papers
    that list this one without being in its own list, by their score then id.  Hidden
    papers get neither and appear in no list.  The result depends only on the papers'
    ids, titles, abstracts, topic ids and hidden flags, not on their order, and a repeat
    of the same input is served from a cache (the live-reload case).
    """
    options = options or RelatedOptions()
    ordered = _sorted_unique(papers)
    key = _cache_key(ordered, options)
    with _gc_paused():
        result = _CACHE.get(key)
        if result is None:
            result = _compute(ordered, options)
            _CACHE.put(key, result)
        for paper in ordered:
            links, backlinks = result.get(paper.id, ((), ()))
            # Fresh objects every time: callers may edit them, and the cache must not change.
            paper.related = [
                Related(id=rid, score=score, why=[*topics, *terms], shared_topics=list(topics),
                        shared_terms=list(terms), weak=score < options.min_score)
                for rid, score, topics, terms in links
            ]
            paper.backlinks = list(backlinks)


def _sorted_unique(papers: list[Paper]) -> list[Paper]:
    ordered = sorted(papers, key=lambda p: p.id)
    if any(a.id == b.id for a, b in zip(ordered, ordered[1:])):
        raise ValueError("related papers: paper ids must be unique")
    return ordered


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Building a million small link objects would trigger full garbage collections over the
    # whole heap again and again; none of them is garbage, so collect once at the end.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def text_vectors(papers: list[Paper], options: RelatedOptions | None = None) -> sp.csr_matrix:
    """The unit-length text vectors that similarity is computed from, one row per paper in
    the order given (float32 CSR), for other views of the same similarity such as a map of
    the papers.  Served from the same cache as compute_related."""
    options = options or RelatedOptions()
    ordered = _sorted_unique(papers)
    matrix, _ = _vectors(ordered, options)
    position = {p.id: i for i, p in enumerate(ordered)}
    return sp.csr_matrix(matrix[[position[p.id] for p in papers]])


def clear_cache() -> None:
    """Forget every cached result (for tests, and for long-running processes that want the
    memory back)."""
    _CACHE.clear()
    _VECTOR_CACHE.clear()


def text_features(text: str) -> list[str]:
    """The similarity features of *text*: specific normalised words and two-word phrases.

    This is the tf-idf analyzer, public so that tools can show why two texts look alike.
    Phrases stay within a clause, skip English stop words except a joining "of"
    ("mixture of expert"), and need at least one word that is not generic vocabulary.
    """
    words = clause_text(text).split()
    lowered = text.lower()
    if "availab" in lowered or "releas" in lowered or "open" in lowered:
        boilerplate = [bool(_BOILERPLATE.search(clause)) for clause in raw_clauses(text)]
        if any(boilerplate):
            words = _drop_clauses(words, boilerplate)
    stop, generic = _STOP_WORDS, GENERIC_WORDS
    # 0: stop word (never counts, ends a phrase), 1: generic, 2: specific.
    kinds = [0 if w in stop or len(w) < 2 or w.isdigit() else 1 if w in generic else 2 for w in words]
    features = [w for w, kind in zip(words, kinds) if kind == 2]
    last = len(words) - 1
    for i in range(last):
        kind = kinds[i]
        if not kind:
            continue
        after = kinds[i + 1]
        if after:
            if kind == 2 or after == 2:
                features.append(words[i] + " " + words[i + 1])
        elif words[i + 1] == "of" and i + 1 < last and kinds[i + 2] and (kind == 2 or kinds[i + 2] == 2):
            features.append(words[i] + " of " + words[i + 2])
    return features


def _drop_clauses(words: list[str], drop: list[bool]) -> list[str]:
    """*words* (clauses separated by CLAUSE_BREAK) without the clauses flagged in *drop*."""
    kept: list[str] = []
    clause = 0
    for word in words:
        if word == _BREAK:
            clause += 1
            if not drop[clause] and kept:
                kept.append(_BREAK)
        elif not drop[clause]:
            kept.append(word)
    return kept


# --- computation -----------------------------------------------------------------------

# One result: paper id -> (related as (id, score, topics, terms) tuples, backlink ids).
_Link = tuple[str, float, tuple[str, ...], tuple[str, ...]]
_Result = dict[str, tuple[tuple[_Link, ...], tuple[str, ...]]]


def _compute(ordered: list[Paper], options: RelatedOptions) -> _Result:
    visible = [p for p in ordered if not p.hidden]
    forward: dict[str, list[_Link]] = {p.id: [] for p in visible}
    if len(visible) >= 2 and options.k > 0:
        matrix, vocabulary = _vectors(visible, options)
        topics = _TopicSets([p.topic_ids for p in visible])
        topic_weight = options.topic_weight if topics.any else 0.0
        ranker = _Ranker(matrix, vocabulary, topics, topic_weight, options)
        for rows, cols, scores, terms in ranker.run(_processes(options, len(visible))):
            for row, col, score, shared in zip(rows.tolist(), cols.tolist(), scores.tolist(), terms):
                forward[visible[row].id].append((visible[col].id, score, topics.shared(row, col), shared))
    incoming: dict[str, list[tuple[float, str]]] = {}
    for source_id, links in forward.items():
        for target_id, score, _, _ in links:
            incoming.setdefault(target_id, []).append((-score, source_id))
    result: _Result = {}
    for paper_id, links in forward.items():
        listed = {link[0] for link in links}
        back = sorted(entry for entry in incoming.get(paper_id, []) if entry[1] not in listed)
        result[paper_id] = (tuple(links), tuple(source_id for _, source_id in back))
    return result


def _vectors(ordered: list[Paper], options: RelatedOptions) -> tuple[sp.csr_matrix, np.ndarray]:
    """Text vectors of *ordered* (rows in that order) and the names of their columns, cached
    by text and weighting options."""
    digest = hashlib.sha256(json.dumps([options.title_weight, options.max_df]).encode())
    for p in ordered:
        digest.update(json.dumps([p.id, p.title, p.abstract], ensure_ascii=False).encode())
    key = digest.hexdigest()
    cached = _VECTOR_CACHE.get(key)
    if cached is None:
        counts, names = _count_features([(p.title, p.abstract) for p in ordered], _processes(options, len(ordered)))
        cached = _weigh(counts, names, options)
        _VECTOR_CACHE.put(key, cached)
    return cached


def _processes(options: RelatedOptions, n: int) -> int:
    if not can_fork():
        return 1
    if options.processes:
        return options.processes
    if n < _PARALLEL_MIN_PAPERS:
        return 1
    return max(1, min(4, cpu_count()))


def _count_features(texts: list[tuple[str, str]], processes: int) -> tuple[sp.csr_matrix, list[str]]:
    """Sublinear term frequencies of each (title, abstract) and the feature names; title
    features appear twice, plain (part of the full text) and marked (the title block)."""
    if processes <= 1:
        counts, names = _count_chunk(texts)
    else:
        size = -(-len(texts) // processes)
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        with fork_pool(processes) as pool:
            parts = list(pool.map(_count_chunk, chunks))
        counts, names = _merge_counts(parts)
    # Canonical order of each row, so that float sums do not depend on how it was built.
    counts.sort_indices()
    return counts, names


def _count_chunk(texts: list[tuple[str, str]]) -> tuple[sp.csr_matrix, list[str]]:
    # Sublinear term frequency, 1 + ln(count); idf and the l2 norm are applied later, over
    # the whole corpus (see _weigh).  Columns are the feature names in sorted order.
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for text in texts:
        for feature, count in Counter(_paper_features(text)).items():
            column = vocabulary.get(feature)
            if column is None:
                column = vocabulary[feature] = len(vocabulary)
            indices.append(column)
            counts.append(count)
        indptr.append(len(indices))
    names = sorted(vocabulary)
    order = np.empty(len(names), dtype=np.int64)
    order[[vocabulary[name] for name in names]] = np.arange(len(names))
    data = 1.0 + np.log(np.array(counts, dtype=np.float64))
    matrix = sp.csr_matrix(
        (data.astype(np.float32), order[np.array(indices, dtype=np.int64)], np.array(indptr, dtype=np.int64)),
        shape=(len(texts), len(names)),
    )
    return matrix, names


def _merge_counts(parts: list[tuple[sp.csr_matrix, list[str]]]) -> tuple[sp.csr_matrix, list[str]]:
    names = sorted(set().union(*(part_names for _, part_names in parts)))
    column = {name: i for i, name in enumerate(names)}
    blocks = []
    for counts, part_names in parts:
        remap = np.array([column[name] for name in part_names], dtype=np.int64)
        blocks.append(sp.csr_matrix((counts.data, remap[counts.indices], counts.indptr), shape=(counts.shape[0], len(names))))
    return sp.csr_matrix(sp.vstack(blocks, format="csr")), names


def _paper_features(text: tuple[str, str]) -> list[str]:
    title = text_features(text[0])
    return title + [_TITLE_MARK + feature for feature in title] + text_features(text[1])


def _weigh(counts: sp.csr_matrix, names: list[str], options: RelatedOptions) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unit-length text vectors (full text plus the weighted title block) without the
    ubiquitous features, and the names of their columns."""
    if not names:
        return sp.csr_matrix(counts.shape, dtype=np.float32), np.array([], dtype=object)
    marked = np.array([name.startswith(_TITLE_MARK) for name in names], dtype=bool)
    plain = np.flatnonzero(~marked)
    vocabulary = np.array(names, dtype=object)[plain]
    position = {name: i for i, name in enumerate(vocabulary)}
    title_position = np.array([position[names[i][len(_TITLE_MARK) :]] for i in np.flatnonzero(marked)], dtype=np.int64)
    columns = counts.tocsc()
    full = columns[:, plain].tocsr()
    title = columns[:, np.flatnonzero(marked)].tocoo()
    titles = sp.csr_matrix((title.data, (title.row, title_position[title.col])), shape=full.shape)
    titles.sort_indices()
    df = np.bincount(full.indices, minlength=full.shape[1])
    idf = sp.diags(_idf(df, counts.shape[0]))
    full = _l2_normalize(full @ idf)
    titles = _l2_normalize(titles @ idf)
    matrix = _l2_normalize(full + np.float32(options.title_weight) * titles)
    # Ubiquitous features go after normalising, so scores keep the scale they have on a
    # small corpus and only lose the ubiquitous part.
    keep = np.flatnonzero(df <= options.max_df)
    matrix = sp.csr_matrix(matrix.tocsc()[:, keep], dtype=np.float32)
    matrix.sort_indices()
    return matrix, vocabulary[keep]


def _l2_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (rows of zeros stay zero)."""
    matrix = sp.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    scale = np.repeat((1.0 / norms).astype(matrix.dtype), np.diff(matrix.indptr))
    return sp.csr_matrix((matrix.data * scale, matrix.indices, matrix.indptr), shape=matrix.shape)


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    """Smoothed idf, ``ln((1 + size) / (1 + df)) + 1``, where *size* is the corpus size
    rounded up to a power of two.

    With the plain corpus size, every paper added moves every idf weight a little, and
    near-tied neighbours swap places all over the site.  With the rounded size, adding a
    paper changes only the weights of the words it contains (except once per doubling of
    the corpus), so the score of two papers that share no word with it stays exactly as it
    was.
    """
    size = 1 << max(0, int(n - 1).bit_length())
    return (np.log((1.0 + size) / (1.0 + df)) + 1.0).astype(np.float32)


# Number of bits set in each byte value (a popcount that works on any numpy version).
_BITS_SET = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


class _TopicSets:
    """Topic ids of each paper, with bit masks for fast Jaccard overlaps of many pairs."""

    def __init__(self, topic_ids: list[list[str]]) -> None:
        self.ids = [list(dict.fromkeys(ids)) for ids in topic_ids]  # best first, no repeats
        names = sorted({t for ids in self.ids for t in ids})
        bit = {name: i for i, name in enumerate(names)}
        self.any = bool(names)
        self.masks = np.zeros((len(self.ids), max(1, -(-len(names) // 64))), dtype=np.uint64)
        for row, ids in enumerate(self.ids):
            for t in ids:
                self.masks[row, bit[t] // 64] |= np.uint64(1 << (bit[t] % 64))
        self.sizes = np.array([len(ids) for ids in self.ids], dtype=np.float64)
        self.sets = [frozenset(ids) for ids in self.ids]

    def jaccard(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """|A & B| / |A | B| for each pair of papers; 0 where neither has topics."""
        common = (self.masks[rows] & self.masks[cols]).view(np.uint8)
        shared = _BITS_SET[common].reshape(len(rows), -1).sum(axis=1, dtype=np.float64)
        union = self.sizes[rows] + self.sizes[cols] - shared
        return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)

    def shared(self, row: int, col: int) -> tuple[str, ...]:
        """Topics of paper *row* also on paper *col*, in *row*'s order."""
        other = self.sets[col]
        return tuple([t for t in self.ids[row] if t in other])


_Block = tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, ...]]]


class _Ranker:
    """Best pairs of each row and their shared terms, one block of rows at a time."""

    def __init__(
        self,
        matrix: sp.csr_matrix,
        vocabulary: np.ndarray,
        topics: _TopicSets,
        topic_weight: float,
        options: RelatedOptions,
    ) -> None:
        self.matrix = matrix
        self.vocabulary = vocabulary
        self.topics = topics
        self.topic_weight = topic_weight
        self.options = options
        self.transposed: sp.csr_matrix | None = None

    def run(self, processes: int) -> Iterator[_Block]:
        """Every block in row order, computed here or by *processes* workers."""
        n = self.matrix.shape[0]
        step = max(1, min(self.options.chunk_size, _MAX_BLOCK_CELLS // n))
        starts = range(0, n, step)
        if processes <= 1:
            yield from (self.block(start, step) for start in starts)
            return
        with fork_pool(processes, _start_worker, (self,)) as pool:
            yield from pool.map(_worker_block, starts, [step] * len(starts), chunksize=4)

    def block(self, start: int, step: int) -> _Block:
        """(row, column, score, shared terms) of the pairs kept for rows start..start+step,
        sorted by row, then score descending, then column (papers are in id order, so ties
        go by id).

        Candidates are the nonzeros of a sparse block product.  A score is at most its text
        similarity times the largest topic boost, so pairs whose text similarity is too low
        for that are dropped before any other work.
        """
        if self.transposed is None:
            self.transposed = self.matrix.T.tocsr()
        options = self.options
        product = self.matrix[start : start + step] @ self.transposed
        # The largest possible topic boost, and half a rounding unit, below min_score.
        lowest = min(options.min_score, options.weak_score) if options.min_count else options.min_score
        floor = lowest / (1.0 + self.topic_weight) - 0.001
        strong_floor = options.min_score / (1.0 + self.topic_weight) - 0.001
        candidate = product.data >= np.float32(strong_floor)
        if lowest < options.min_score:
            # Weak candidates matter only for rows that may end up with fewer than min_count
            # strong pairs; a row with enough sure ones (and itself) skips them, which keeps
            # the sort below small on large corpora.
            row_of = np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
            sure = np.bincount(row_of[product.data >= np.float32(options.min_score + 0.0005)],
                               minlength=product.shape[0])
            short = sure < options.min_count + 1
            candidate |= (product.data >= np.float32(floor)) & short[row_of]
        hits = np.flatnonzero(candidate)
        rows = np.searchsorted(product.indptr, hits, side="right") - 1 + start
        cols = product.indices[hits].astype(np.int64)
        scores = product.data[hits].astype(np.float64)
        if self.topic_weight:
            boost = 1.0 + self.topic_weight * self.topics.jaccard(rows, cols)
            scores = np.minimum(1.0, scores * boost)
        # Round before ranking, so that scores shown as equal are ranked as ties (by id).
        scores = np.round(scores, 3)
        keep = (scores >= lowest) & (rows != cols)
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
        order = np.lexsort((cols, -scores, rows))
        rows, cols, scores = rows[order], cols[order], scores[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        # Strong pairs come first in each row; weaker ones only fill a short list up to
        # min_count, so that no paper is a dead end.
        best = (rank < options.k) & ((scores >= options.min_score) | (rank < options.min_count))
        rows, cols, scores = rows[best], cols[best], scores[best]
        return rows, cols, scores, self.shared_terms(rows, cols)

    def shared_terms(self, rows: np.ndarray, cols: np.ndarray) -> list[tuple[str, ...]]:
        """For each pair, the terms contributing most to its text similarity, best first."""
        if len(rows) == 0:
            return []
        products = self.matrix[rows].multiply(self.matrix[cols]).tocsr()
        products.eliminate_zeros()
        pair = np.repeat(np.arange(len(rows)), np.diff(products.indptr))
        # Largest contribution first, ties by term (columns are in alphabetical order).
        order = np.lexsort((products.indices, -products.data, pair))
        # Two candidates per shown term are plenty (some are skipped or joined).
        rank = np.arange(len(order)) - products.indptr[pair]
        order = order[rank < 2 * MAX_SHARED_TERMS]
        terms = self.vocabulary[products.indices[order]].tolist()
        bounds = np.searchsorted(pair[order], np.arange(len(rows) + 1))
        return [_readable_terms(terms[bounds[i] : bounds[i + 1]]) for i in range(len(rows))]


# The ranker of a worker process, set once when the worker starts.
_WORKER_RANKER: _Ranker | None = None


def _start_worker(ranker: _Ranker) -> None:
    global _WORKER_RANKER
    _WORKER_RANKER = ranker


def _worker_block(start: int, step: int) -> _Block:
    assert _WORKER_RANKER is not None
    return _WORKER_RANKER.block(start, step)


def _readable_terms(ranked: list[str]) -> tuple[str, ...]:
    """Up to MAX_SHARED_TERMS of the *ranked* terms, skipping those already said and
    joining overlapping phrases ("large language" + "language model")."""
    chosen: list[list[str]] = []
    covered: set[str] = set()
    for term in ranked:
        words = term.split()
        if set(words) - {"of"} <= covered:
            continue  # "merging" adds nothing once "model merging" is shown
        for phrase in chosen:
            if len(words) > 1 and words[0] == phrase[-1]:
                phrase.extend(words[1:])
                break
            if len(words) > 1 and words[-1] == phrase[0]:
                phrase[:0] = words[:-1]
                break
        else:
            if len(chosen) == MAX_SHARED_TERMS:
                break
            chosen.append(words)
        covered.update(words)
    return tuple(" ".join(phrase) for phrase in chosen)


# --- cache -----------------------------------------------------------------------------


class _ResultCache:
    """The last few results, keyed by a hash of everything they depend on.  Values are
    never handed out as they are: callers copy or build new objects from them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, object] = OrderedDict()

    def get(self, key: str) -> Any:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        return None

    def put(self, key: str, value: object) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


_CACHE = _ResultCache(size=4)
# Matrices are bigger and only the last corpus is asked for again.
_VECTOR_CACHE = _ResultCache(size=1)


def _cache_key(ordered: list[Paper], options: RelatedOptions) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(options), sort_keys=True).encode())
    for p in ordered:
        record = [p.id, p.title, p.abstract, list(p.topic_ids), bool(p.hidden)]
        digest.update(json.dumps(record, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()
