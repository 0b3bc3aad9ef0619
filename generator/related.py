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

The N x N similarity matrix is never built: a block of rows is multiplied against the rows
from there on (similarity is symmetric, so each pair is computed once), only the pairs that
may make a link are kept, and of those the best ``k`` of each row.  On large corpora the
block products run in worker processes.  Results are cached by a hash of every input, so a
live rebuild whose papers did not change does no work.
"""

from __future__ import annotations

import functools
import json
import re
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

# Importing scipy.sparse takes a tenth of a second (it builds a copy of numpy's namespace):
# it is imported where first needed, so that a process that only reads and tags the content
# (MkDocs' own under `mkdocs build`, whose pages are made in a forked process) never does.
if TYPE_CHECKING:
    import scipy.sparse as sp

from .memory import collection_paused
from .models import Paper, Related
from .textnorm import CLAUSE_BREAK, clause_text, normalise, raw_clauses
from .workers import Forked, SharedCursor, can_fork, cpu_count, fork_pool


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
    # _MAX_BLOCK_CELLS whatever the corpus size.  A block computes its pairs with later
    # rows once but those within itself both ways round, so smaller blocks waste less;
    # below about 500 rows the cost of each block outweighs that (measured at 10,000).
    chunk_size: int = 512
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

# Pairs whose shared terms are worked out together: enough to make the per-call overhead of
# the array operations small, few enough to keep their memory small.
_TERM_PAIRS = 1 << 14

# Forked workers start at once, but splitting the work and merging the results costs about
# what the second core saves below a few thousand papers.
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
    # A million small link objects at 10,000 papers, none of them garbage.
    with collection_paused():
        result = _CACHE.get(key)
        if result is None:
            result = _compute(ordered, options)
            _CACHE.put(key, result)
        for paper in ordered:
            ids, scores, topics, terms, backlinks = result.get(paper.id, _NO_LINKS)
            # Fresh objects every time: callers may edit them, and the cache must not change.
            paper.related = [
                Related(id=rid, score=score, why=[*pair_topics, *pair_terms], shared_topics=list(pair_topics),
                        shared_terms=list(pair_terms), weak=score < options.min_score)
                for rid, score, pair_topics, pair_terms in zip(ids, scores, topics, terms)
            ]
            paper.backlinks = list(backlinks)


def _sorted_unique(papers: list[Paper]) -> list[Paper]:
    ordered = sorted(papers, key=lambda p: p.id)
    if any(a.id == b.id for a, b in zip(ordered, ordered[1:])):
        raise ValueError("related papers: paper ids must be unique")
    return ordered


def text_vectors(papers: list[Paper], options: RelatedOptions | None = None) -> sp.csr_matrix:
    """The unit-length text vectors that similarity is computed from, one row per paper in
    the order given (float32 CSR), for other views of the same similarity such as a map of
    the papers.  Served from the same cache as compute_related."""
    import scipy.sparse as sp

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
    _READ.clear()


def text_features(text: str) -> list[str]:
    """The similarity features of *text*: specific normalised words and two-word phrases.

    This is the tf-idf analyzer, public so that tools can show why two texts look alike.
    Phrases stay within a clause, skip English stop words except a joining "of"
    ("mixture of expert"), and need at least one word that is not generic vocabulary.
    Words come first, then phrases, each in the order of the text.
    """
    _, codes, words = _feature_occurrences([text])
    return [_feature_name(code, words) for code in codes.tolist()]


def _feature_text(text: str) -> str:
    """The normalised words of *text* that features are made of: :func:`clause_text`
    without the clauses that only say where code or data are available."""
    normal = clause_text(text)
    lowered = text.lower()
    if "availab" in lowered or "releas" in lowered or "open" in lowered:
        boilerplate = [_is_boilerplate(clause) for clause in raw_clauses(text)]
        if any(boilerplate):
            return " ".join(_drop_clauses(normal.split(), boilerplate))
    return normal


def _is_boilerplate(clause: str) -> bool:
    """Whether *clause* only says where code or data are available (see _BOILERPLATE)."""
    if clause.isascii():
        # A match needs one of these words; in ASCII text, where ignoring case is the same
        # as lowercasing, looking for them first is exact and far cheaper than the pattern.
        lowered = clause.lower()
        if "availab" not in lowered and "releas" not in lowered and "open" not in lowered:
            return False
    return bool(_BOILERPLATE.search(clause))


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


# Ends each text in the word sequence of many texts; normalised text never contains it, and
# as a stop word (shorter than two letters) it ends any phrase.
_END_OF_TEXT = "\x00"
# Texts read at a time when counting features (see _feature_occurrences).
_TEXTS_PER_RUN = 4096
# Kinds of words: stop words never count and end a phrase; generic words count only in a
# phrase with a specific word.
_STOP, _GENERIC, _SPECIFIC = 0, 1, 2


class _WordIds(dict[str, int]):
    """Word -> id, numbering new words as they come."""

    def __missing__(self, word: str) -> int:
        self[word] = len(self)
        return self[word]


def _word_kind(word: str) -> int:
    if word in _STOP_WORDS or len(word) < 2 or word.isdigit():
        return _STOP
    return _GENERIC if word in GENERIC_WORDS else _SPECIFIC


# From this many texts (2,000 papers), a forked process shares the reading (see
# _feature_occurrences), taking this many texts at a time.
_SPLIT_MIN_TEXTS = 4000
_TEXTS_PER_CLAIM = 1000

_Occurrences = tuple[np.ndarray, np.ndarray, list[str]]


def _feature_occurrences(texts: list[str]) -> _Occurrences:
    """Every feature occurrence in *texts*, as the index of its text and a feature code
    (see :func:`_feature_name`), and the words that codes refer to.

    Occurrences come in runs of texts; within a run, the words of its texts, then their
    phrases, each in text order.  For many texts, where forking is safe, a second process
    takes part of them, with words of its own numbering, merged afterwards.  Texts read
    already (see :func:`read_features`) are not read again.
    """
    if _READ:  # (a tuple of every text is only made when something was read ahead)
        ahead = _READ.pop(tuple(texts), None)
        if ahead is not None:
            return ahead
    if len(texts) < _SPLIT_MIN_TEXTS or not can_fork():
        return _occurrences_of(texts, [range(len(texts))])
    cursor = SharedCursor(len(texts), _TEXTS_PER_CLAIM)
    helper = Forked(lambda: _occurrences_of(texts, cursor.claims()))
    mine = _occurrences_of(texts, cursor.claims())
    return _merge_occurrences(mine, helper.result())


# Feature occurrences read ahead (see read_features), by the texts they were read from.
_READ: dict[tuple[str, ...], _Occurrences] = {}


def read_features(texts: list[str], parts: list[range]) -> _Occurrences:
    """The features of the *parts* of *texts* (ranges of them), read in this process, so
    that reading them can share the work of a forked process that has just normalised
    them (topic scoring does): see :func:`remember_features`.  *texts* are each paper's
    title and abstract, papers in the order of their ids, as related papers read them."""
    return _occurrences_of(texts, parts)


def remember_features(texts: list[str], readings: list[_Occurrences]) -> None:
    """Keep the :func:`read_features` of *texts* made by one or two processes, which
    together read every text once, for computing related papers of these texts next."""
    _READ.clear()  # only the latest corpus is asked for
    merged = readings[0] if len(readings) == 1 else _merge_occurrences(*readings)
    _READ[tuple(texts)] = merged


def _merge_occurrences(first: _Occurrences, second: _Occurrences) -> _Occurrences:
    """The occurrences found by two processes in one word numbering: the first's, with the
    second's new words after it."""
    where, codes, words = first
    later_where, later_codes, later_words = second
    ids = {word: i for i, word in enumerate(words)}
    merged = words + [word for word in later_words if word not in ids]
    ids.update((word, i) for i, word in enumerate(merged[len(words):], len(words)))
    renumber = np.array([ids[word] for word in later_words], dtype=np.int64)
    recoded = [_recode(codes, len(words), len(merged)), _recode(later_codes, len(later_words), len(merged), renumber)]
    return np.concatenate([where, later_where]), np.concatenate(recoded), merged


def _recode(codes: np.ndarray, size: int, new_size: int, renumber: np.ndarray | None = None) -> np.ndarray:
    """Feature codes over *size* words re-encoded over *new_size* words, each word id
    mapped through *renumber* (if given)."""
    kind, rest = np.divmod(codes, size * size)
    first, second = np.divmod(rest, size)
    if renumber is not None:
        first, second = renumber[first], renumber[second]
    return (kind * new_size + first) * new_size + second


def _occurrences_of(texts: list[str], parts: Iterable[range]) -> _Occurrences:
    """:func:`_feature_occurrences` of the *parts* of *texts*, in this process.  The rules
    are applied to arrays of word ids, so a corpus costs one dictionary look-up per word in
    Python; reading the texts in runs keeps few words in memory as strings at any one time."""
    ids_of = _WordIds({_END_OF_TEXT: 0})
    runs = []
    for part in parts:
        for start in range(part.start, part.stop, _TEXTS_PER_RUN):
            run = texts[start : min(start + _TEXTS_PER_RUN, part.stop)]
            sequence = f" {_END_OF_TEXT} ".join(map(_feature_text, run)).split()
            sequence.append(_END_OF_TEXT)
            runs.append((start, np.fromiter(map(ids_of.__getitem__, sequence), dtype=np.int32, count=len(sequence))))
    words = list(ids_of)
    kinds = np.array([_word_kind(word) for word in words], dtype=np.int8)
    found = [_run_features(ids, kinds, ids_of.get("of", -1), len(words), start) for start, ids in runs]
    if not found:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), words
    where, codes = (np.concatenate(arrays) for arrays in zip(*found))
    return where, codes, words


def _run_features(
    ids: np.ndarray, kinds: np.ndarray, of: int, size: int, first_text: int
) -> tuple[np.ndarray, np.ndarray]:
    """(text index, feature code) of the features in a run of texts, given as word *ids*
    each text followed by the end-of-text mark; *kinds* are those of all *size* words."""
    ids = ids.astype(np.int64)
    kind = kinds[ids]
    ends = ids == 0
    text = (np.cumsum(ends) - ends + first_text).astype(np.int32)
    # Phrases start at word i: i and i + 1 ("model merging"), or i and i + 2 around a stop
    # word "of" ("mixture of expert"); neither word a stop word, one of them specific.  The
    # end-of-text mark keeps phrases within a text.
    first, second = kind[:-1], kind[1:]
    third = np.append(kind[2:], _STOP)
    pair = (first != _STOP) & (second != _STOP) & ((first == _SPECIFIC) | (second == _SPECIFIC))
    joined = (
        (first != _STOP) & (second == _STOP) & (ids[1:] == of) & (third != _STOP)
        & ((first == _SPECIFIC) | (third == _SPECIFIC))
    )
    phrase = pair | joined
    last = np.where(pair, ids[1:], np.append(ids[2:], 0))
    phrase_codes = (np.where(pair, 1, 2) * size + ids[:-1]) * size + last
    single = kind == _SPECIFIC
    codes = np.concatenate([ids[single] * size, phrase_codes[phrase]])
    where = np.concatenate([text[single], text[:-1][phrase]])
    return where, codes


def _feature_name(code: int, words: list[str]) -> str:
    """The feature a code of :func:`_feature_occurrences` stands for: ``(kind x W + first)
    x W + second`` over the W words, kind 0 a word, 1 a two-word phrase, 2 a phrase joined
    by "of"."""
    kind, rest = divmod(code, len(words) * len(words))
    first, second = divmod(rest, len(words))
    if kind == 0:
        return words[first]
    return words[first] + (" " if kind == 1 else " of ") + words[second]


# --- computation -----------------------------------------------------------------------

# One result: paper id -> the related papers' ids, scores, shared topics and shared terms
# (each a tuple in list order), and the backlink ids.
_Names = tuple[str, ...]
_Links = tuple[_Names, tuple[float, ...], tuple[_Names, ...], tuple[_Names, ...], _Names]
_Result = dict[str, _Links]
_NO_LINKS: _Links = ((), (), (), (), ())


def _compute(ordered: list[Paper], options: RelatedOptions) -> _Result:
    visible = [p for p in ordered if not p.hidden]
    ids = [p.id for p in visible]
    if len(visible) < 2 or options.k <= 0:
        return {pid: _NO_LINKS for pid in ids}
    matrix, vocabulary = _vectors(visible, options)
    topics = _TopicSets([p.topic_ids for p in visible])
    topic_weight = options.topic_weight if topics.any else 0.0
    ranker = _Ranker(matrix, vocabulary, topics, topic_weight, options)
    rows, cols, scores, terms = ranker.run(_processes(options, len(visible)))
    shared_topics = topics.shared(rows, cols)
    linked = [ids[col] for col in cols.tolist()]
    score_list = scores.tolist()
    # Backlinks: incoming links whose source is not listed in return, by score then id
    # (rows are in id order).
    listed = np.isin(cols * len(ids) + rows, rows * len(ids) + cols)
    back = np.flatnonzero(~listed)
    back = back[np.lexsort((rows[back], -scores[back], cols[back]))]
    sources = [ids[row] for row in rows[back].tolist()]
    starts = np.searchsorted(rows, np.arange(len(ids) + 1)).tolist()
    back_starts = np.searchsorted(cols[back], np.arange(len(ids) + 1)).tolist()
    return {
        pid: (
            tuple(linked[start:end]),
            tuple(score_list[start:end]),
            tuple(shared_topics[start:end]),
            tuple(terms[start:end]),
            tuple(sources[back_start:back_end]),
        )
        for pid, start, end, back_start, back_end in zip(ids, starts, starts[1:], back_starts, back_starts[1:])
    }


def _vectors(ordered: list[Paper], options: RelatedOptions) -> tuple[sp.csr_matrix, np.ndarray]:
    """Text vectors of *ordered* (rows in that order) and the names of their columns, cached
    by text and weighting options."""
    key = _vector_key(ordered, options)
    cached = _VECTOR_CACHE.get(key)
    if cached is None:
        cached = _weigh(*_count_features([(p.title, p.abstract) for p in ordered]), options)
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


def _count_features(texts: list[tuple[str, str]]) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Sublinear term frequencies, 1 + ln(count), of each (title, abstract) as a whole and
    of its title alone, and the feature names of their columns (sorted).  Idf and the l2
    norm are applied later, over the whole corpus (see _weigh)."""
    where, codes, words = _feature_occurrences([text for pair in texts for text in pair])
    papers = len(texts)
    # One sort groups the occurrences by feature, then paper; features are numbered in
    # code order here and renumbered in name order below.
    occurrences = codes * papers + where // 2
    title_occurrences = occurrences[where % 2 == 0]
    del where, codes  # the largest arrays here on a big corpus
    keys, counts = np.unique(occurrences, return_counts=True)
    del occurrences
    feature_codes, rows = np.divmod(keys, papers)
    new = np.ones(len(keys), dtype=bool)
    new[1:] = feature_codes[1:] != feature_codes[:-1]
    features = feature_codes[new]
    names = [_feature_name(code, words) for code in features.tolist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    column = np.empty(len(names), dtype=np.int64)
    column[order] = np.arange(len(names))
    full = _frequencies(rows, column[np.cumsum(new) - 1], counts, (papers, len(names)))
    title_keys, title_counts = np.unique(title_occurrences, return_counts=True)
    title_codes, title_rows = np.divmod(title_keys, papers)
    title_columns = column[np.searchsorted(features, title_codes)]
    titles = _frequencies(title_rows, title_columns, title_counts, (papers, len(names)))
    return full, titles, np.array([names[i] for i in order], dtype=object)


def _frequencies(rows: np.ndarray, columns: np.ndarray, counts: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR matrix (float32, sorted indices) of 1 + ln(count) at each (row, column)."""
    import scipy.sparse as sp

    data = (1.0 + np.log(counts.astype(np.float64))).astype(np.float32)
    matrix = sp.csr_matrix((data, (rows, columns)), shape=shape)
    matrix.sort_indices()
    return matrix


def _weigh(
    full: sp.csr_matrix, titles: sp.csr_matrix, vocabulary: np.ndarray, options: RelatedOptions
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unit-length text vectors (full text plus the weighted title block) without the
    ubiquitous features, and the names of their columns."""
    import scipy.sparse as sp

    if not len(vocabulary):
        return sp.csr_matrix(full.shape, dtype=np.float32), vocabulary
    df = np.bincount(full.indices, minlength=full.shape[1])
    idf = sp.diags(_idf(df, full.shape[0]))
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
    import scipy.sparse as sp

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

    def common(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """|A & B| for each pair of papers."""
        common = (self.masks[rows] & self.masks[cols]).view(np.uint8)
        # The width is given, as reshape cannot infer it for no pairs at all.
        return _BITS_SET[common].reshape(len(rows), 8 * self.masks.shape[1]).sum(axis=1, dtype=np.float64)

    def jaccard(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """|A & B| / |A | B| for each pair of papers; 0 where neither has topics."""
        shared = self.common(rows, cols)
        union = self.sizes[rows] + self.sizes[cols] - shared
        return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)

    def shared(self, rows: np.ndarray, cols: np.ndarray) -> list[tuple[str, ...]]:
        """For each pair, the topics of paper *row* also on paper *col*, in *row*'s order."""
        out: list[tuple[str, ...]] = [()] * len(rows)
        ids, sets = self.ids, self.sets
        # Equal tuples are one object: there are few distinct ones, and fewer objects kept
        # is less for the garbage collector to visit.
        distinct: dict[tuple[str, ...], tuple[str, ...]] = {}
        some = np.flatnonzero(self.common(rows, cols)) if self.any else np.zeros(0, dtype=np.int64)
        for i, row, col in zip(some.tolist(), rows[some].tolist(), cols[some].tolist()):
            other = sets[col]
            shared = tuple([t for t in ids[row] if t in other])
            out[i] = distinct.setdefault(shared, shared)
        return out


_Block = tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, ...]]]
# Pairs of papers and their text similarity: rows, columns, float32 similarities.
_Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


class _Ranker:
    """Best pairs of each row and their shared terms.

    Candidates are the nonzeros of sparse block products of the vectors with themselves.
    A score is at most its text similarity times the largest topic boost, so pairs whose
    text similarity is too low for that are dropped before any other work.  Similarity is
    symmetric (each product adds the same terms in the same order either way round), so
    each pair is computed once, in the row of its first paper.
    """

    def __init__(
        self,
        matrix: sp.csr_matrix,
        vocabulary: np.ndarray,
        topics: _TopicSets,
        topic_weight: float,
        options: RelatedOptions,
    ) -> None:
        import scipy.sparse as sp

        # A column found in one paper only adds to no product of two papers, so products
        # (and shared terms) leave it out; every other sum keeps its terms and their order.
        shared = np.flatnonzero(np.bincount(matrix.indices, minlength=matrix.shape[1]) > 1)
        self.matrix = sp.csr_matrix(matrix[:, shared])
        self.matrix.sort_indices()
        self.vocabulary = vocabulary[shared]
        self.topics = topics
        self.topic_weight = topic_weight
        self.options = options
        self.transposed: sp.csr_matrix | None = None
        # The lowest score a pair may have: down to weak_score for short lists.
        self.lowest = min(options.min_score, options.weak_score) if options.min_count else options.min_score
        # Text similarities that may reach min_score (and lowest) with the largest topic
        # boost, less half a rounding unit.
        self.strong = np.float32(options.min_score / (1.0 + topic_weight) - 0.001)
        self.weak = np.float32(self.lowest / (1.0 + topic_weight) - 0.001)
        # Pairs this similar are sure to be strong whatever the topics: a row with
        # min_count of them never needs weak pairs, which keeps the candidates few.
        self.sure = np.float32(options.min_score + 0.0005)

    def run(self, processes: int) -> _Block:
        """(row, column, score, shared terms) of the pairs kept, sorted by row, then score
        descending, then column (papers are in id order, so ties go by id); the products
        are computed here or by *processes* workers."""
        n = self.matrix.shape[0]
        step = max(1, min(self.options.chunk_size, _MAX_BLOCK_CELLS // n))
        starts = range(0, n, step)
        if processes <= 1:
            rows, cols, scores = self.best_pairs([self.block(start, step) for start in starts], starts, step)
            return rows, cols, scores, self.shared_terms(rows, cols)
        with fork_pool(processes, _start_worker, (self,)) as pool:
            # Earlier blocks are larger (they reach all later rows): one at a time.
            blocks = list(pool.map(_worker_block, starts, [step] * len(starts)))
            rows, cols, scores = self.best_pairs(blocks, starts, step)
            return rows, cols, scores, self.shared_terms(rows, cols, pool.map, processes)

    def best_pairs(self, blocks: list[_Pairs], starts: range, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept (row, column, score) of the pairs of all *blocks*, in the order of
        :meth:`run`."""
        n = self.matrix.shape[0]
        # Pairs (row < column) in row order, and where each column's pairs are.
        rows, cols, sims = (np.concatenate(parts) for parts in zip(*blocks))
        del blocks
        by_col = np.argsort(cols, kind="stable")
        sorted_cols = cols[by_col]
        short = np.zeros(n, dtype=bool)
        if self.lowest < self.options.min_score:
            # Rows with fewer than min_count sure pairs may fill their lists with weak
            # pairs: all their pairs down to the weak bound are candidates.
            sure = sims >= self.sure
            sure_pairs = np.bincount(rows[sure], minlength=n) + np.bincount(cols[sure], minlength=n)
            short = sure_pairs < self.options.min_count
        kept = []
        for start in starts:
            # The candidates of these rows: their pairs with later rows, and those of
            # earlier rows with them, turned round.
            first, last = np.searchsorted(rows, [start, start + step])
            turned = by_col[slice(*np.searchsorted(sorted_cols, [start, start + step]))]
            pair_rows = np.concatenate([rows[first:last], cols[turned]]).astype(np.int64)
            pair_cols = np.concatenate([cols[first:last], rows[turned]]).astype(np.int64)
            pair_sims = np.concatenate([sims[first:last], sims[turned]])
            candidate = (pair_sims >= self.strong) & ~short[pair_rows]
            parts = [(pair_rows[candidate], pair_cols[candidate], pair_sims[candidate])]
            weak = np.flatnonzero(short[start : start + step]) + start
            if len(weak):
                parts.append(self.weak_pairs(weak))
            kept.append(self.rank(*(np.concatenate(arrays) for arrays in zip(*parts))))
        rows, cols, scores = (np.concatenate(arrays) for arrays in zip(*kept))
        return rows, cols, scores

    def block(self, start: int, step: int) -> _Pairs:
        """The pairs (row, column > row) with rows start..start+step whose similarity may
        make a link: above the strong bound, or above the sure bound (counted to find the
        rows that need weak pairs)."""
        if self.transposed is None:
            self.transposed = self.matrix.T.tocsr()
        product = self.matrix[start : start + step] @ self.transposed[:, start:]
        hits = np.flatnonzero(product.data >= min(self.strong, self.sure))
        rows = np.searchsorted(product.indptr, hits, side="right") - 1 + start
        cols = product.indices[hits] + start
        upper = cols > rows
        # 32-bit ids halve the memory of the pairs kept for ranking (never 2**31 papers).
        return rows[upper].astype(np.int32), cols[upper].astype(np.int32), product.data[hits[upper]]

    def weak_pairs(self, rows: np.ndarray) -> _Pairs:
        """Every pair of the given rows with a similarity above the weak bound."""
        if self.transposed is None:
            self.transposed = self.matrix.T.tocsr()
        product = self.matrix[rows] @ self.transposed
        hits = np.flatnonzero(product.data >= self.weak)
        pair_rows = rows[np.searchsorted(product.indptr, hits, side="right") - 1]
        cols = product.indices[hits].astype(np.int64)
        other = cols != pair_rows
        return pair_rows[other], cols[other], product.data[hits[other]]

    def rank(self, rows: np.ndarray, cols: np.ndarray, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The best candidates of each row, with their scores, in the order of :meth:`run`."""
        options = self.options
        scores = sims.astype(np.float64)
        if self.topic_weight:
            boost = 1.0 + self.topic_weight * self.topics.jaccard(rows, cols)
            scores = np.minimum(1.0, scores * boost)
        # Round before ranking, so that scores shown as equal are ranked as ties (by id).
        scores = np.round(scores, 3)
        keep = scores >= self.lowest
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
        # Sort by one int64 key, (row, score descending, column): scores are now multiples
        # of 0.001, so their thousandths order them exactly.
        levels = np.rint(scores * 1000).astype(np.int64)
        if len(levels):
            span = levels.max() - levels.min() + 1
            n = self.matrix.shape[0]
            order = np.argsort((rows * span + (levels.max() - levels)) * n + cols)
            rows, cols, scores = rows[order], cols[order], scores[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        # Strong pairs come first in each row; weaker ones only fill a short list up to
        # min_count, so that no paper is a dead end.
        best = (rank < options.k) & ((scores >= options.min_score) | (rank < options.min_count))
        return rows[best], cols[best], scores[best]

    def shared_terms(
        self, rows: np.ndarray, cols: np.ndarray, map_: Callable[..., Iterable[list[tuple[str, ...]]]] | None = None,
        processes: int = 1,
    ) -> list[tuple[str, ...]]:
        """For each pair, the terms contributing most to its text similarity, best first;
        worked out here, or by the workers of a pool whose ``map`` is *map_*."""
        if len(rows) == 0:
            return []
        # A pair listed both ways round shares the same terms: each is worked out once, a
        # bounded number at a time (a few parts per worker, so that they finish together).
        n = self.matrix.shape[0]
        pairs, which = np.unique(np.minimum(rows, cols) * n + np.maximum(rows, cols), return_inverse=True)
        first, second = np.divmod(pairs, n)
        size = min(_TERM_PAIRS, -(-len(pairs) // (4 * processes))) if map_ else _TERM_PAIRS
        parts = range(0, len(pairs), size)
        firsts, seconds = [first[i : i + size] for i in parts], [second[i : i + size] for i in parts]
        terms: list[tuple[str, ...]] = []
        for part in (map_ or map)(_worker_terms if map_ else self.top_terms, firsts, seconds):
            terms += part
        return [terms[i] for i in which.tolist()]

    def top_terms(self, first: np.ndarray, second: np.ndarray) -> list[tuple[str, ...]]:
        """The readable shared terms of each pair (first, second)."""
        products = self.matrix[first].multiply(self.matrix[second]).tocsr()
        products.eliminate_zeros()
        products.sort_indices()
        pair = np.repeat(np.arange(len(first)), np.diff(products.indptr))
        # Largest contribution first, ties by term: a stable sort by pair, then contribution
        # descending (the bits of a positive float32 order it as an integer), keeps the
        # alphabetical order of the columns among equal contributions.
        descending = np.int64(np.iinfo(np.int32).max) - products.data.view(np.int32)
        order = np.argsort((pair << 31) + descending, kind="stable")
        # Two candidates per shown term are plenty (some are skipped or joined).
        rank = np.arange(len(order)) - products.indptr[pair]
        order = order[rank < 2 * MAX_SHARED_TERMS]
        terms = self.vocabulary[products.indices[order]].tolist()
        bounds = np.searchsorted(pair[order], np.arange(len(first) + 1)).tolist()
        return [_readable_terms(terms[start:end]) for start, end in zip(bounds, bounds[1:])]


# The ranker of a worker process, set once when the worker starts.
_WORKER_RANKER: _Ranker | None = None


def _start_worker(ranker: _Ranker) -> None:
    global _WORKER_RANKER
    _WORKER_RANKER = ranker


def _worker_block(start: int, step: int) -> _Pairs:
    assert _WORKER_RANKER is not None
    return _WORKER_RANKER.block(start, step)


def _worker_terms(first: np.ndarray, second: np.ndarray) -> list[tuple[str, ...]]:
    assert _WORKER_RANKER is not None
    return _WORKER_RANKER.top_terms(first, second)


def _readable_terms(ranked: list[str]) -> tuple[str, ...]:
    """Up to MAX_SHARED_TERMS of the *ranked* terms, skipping those already said and
    joining overlapping phrases ("large language" + "language model")."""
    chosen: list[list[str]] = []
    covered: set[str] = set()
    for term in ranked:
        words, said = _term_words(term)
        if said <= covered:
            continue  # "merging" adds nothing once "model merging" is shown
        for phrase in chosen if len(words) > 1 else ():  # only a phrase joins another
            if words[0] == phrase[-1]:
                phrase.extend(words[1:])
                break
            if words[-1] == phrase[0]:
                phrase[:0] = words[:-1]
                break
        else:
            if len(chosen) == MAX_SHARED_TERMS:
                break
            chosen.append(list(words))
        covered.update(words)
    return tuple([" ".join(phrase) for phrase in chosen])


@functools.lru_cache(maxsize=1 << 16)
def _term_words(term: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The words of *term*, and those that say something (all but a joining "of")."""
    words = tuple(term.split())
    return words, frozenset(words) - {"of"}


# --- cache -----------------------------------------------------------------------------


# A cache key is every input itself, as a tuple: looking it up hashes each text once (a
# string keeps its hash) and a hit compares them, which costs a fraction of a digest of the
# same texts.  The cache holds the texts of the few corpora it keeps.
_Key = tuple[Any, ...]


class _ResultCache:
    """The last few results, keyed by everything they depend on.  Values are never handed
    out as they are: callers copy or build new objects from them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_Key, object] = OrderedDict()

    def get(self, key: _Key) -> Any:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        return None

    def put(self, key: _Key, value: object) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


_CACHE = _ResultCache(size=4)
# Matrices are bigger and only the last corpus is asked for again.
_VECTOR_CACHE = _ResultCache(size=1)


def _cache_key(ordered: list[Paper], options: RelatedOptions) -> _Key:
    fields: list[Any] = [json.dumps(asdict(options), sort_keys=True)]
    for p in ordered:
        fields += (p.id, p.title, p.abstract, tuple(p.topic_ids), p.hidden)
    return tuple(fields)


def _vector_key(ordered: list[Paper], options: RelatedOptions) -> _Key:
    return (options.title_weight, options.max_df, *[s for p in ordered for s in (p.id, p.title, p.abstract)])
