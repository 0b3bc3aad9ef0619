"""How long related papers take, and how much memory, on large synthetic corpora.

    python benchmarks/related_bench.py                 # 1k, 10k and 100k papers
    python benchmarks/related_bench.py --sizes 1000 5000

Each size runs in its own subprocess, so the peak RSS reported (``ru_maxrss``) belongs to
that size alone.  From 20,000 papers the work is shared with forked worker processes: the
table shows the largest worker's peak RSS too, and the peak PSS of the whole process tree
(sampled from /proc on Linux), which counts pages shared with the workers once.  The corpus is deterministic: words come from the real abstracts under
``content/`` with their real frequencies (stop words and all), drawn by a seeded RNG.
Papers belong to clusters of about forty; a cluster has its own specific words and a pool
of sentences, and a paper is mostly sentences from its cluster's pool with a few from
elsewhere, so each paper has a few dozen truly similar papers among many that share only
common words.  Each cluster also carries one to three of forty topic ids, so the topic
blend is exercised too.  The "same cluster" column is the share of related links that stay
within the paper's cluster: a check that the speed is not bought with nonsense.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.models import Paper, TopicTag  # noqa: E402
from generator.related import RelatedOptions, compute_related  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
SEED = 20240601
CLUSTER_SIZE = 40
POOL_SENTENCES = 24
SPECIFIC_WORDS = 14
# Of the most frequent words, this many are treated as common vocabulary that no cluster
# owns; cluster-specific words are drawn from the rest.
COMMON_RANK = 400
TOPICS = 40


def real_word_counts(content_dir: Path) -> Counter[str]:
    """Word frequencies of the real papers' titles and abstracts."""
    from generator.pipeline import load_catalog

    counts: Counter[str] = Counter()
    for paper in load_catalog(content_dir):
        counts.update(re.findall(r"[A-Za-z][A-Za-z\-]+", paper.title + " " + paper.abstract))
    return counts


def synthetic_papers(n: int, counts: Counter[str], seed: int = SEED) -> tuple[list[Paper], list[int]]:
    """*n* papers in clusters, from the words of *counts*, and the cluster of each paper;
    the same for the same arguments."""
    rng = np.random.default_rng(seed)
    words = np.array(sorted(counts, key=lambda w: (-counts[w], w)))
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    freq /= freq.sum()
    rare = words[COMMON_RANK:]
    clusters = max(1, n // CLUSTER_SIZE)

    def sentence(specific: np.ndarray, length: int) -> str:
        # About a third of the words are the cluster's own; the rest follow real frequencies.
        drawn = words[rng.choice(len(words), size=length, p=freq)]
        own = rng.random(length) < 0.35
        drawn[own] = specific[rng.integers(0, len(specific), size=int(own.sum()))]
        return " ".join(drawn).capitalize() + "."

    specifics, pools, topics = [], [], []
    for _ in range(clusters):
        specific = rare[rng.choice(len(rare), size=SPECIFIC_WORDS, replace=False)]
        specifics.append(specific)
        pools.append([sentence(specific, int(rng.integers(10, 22))) for _ in range(POOL_SENTENCES)])
        chosen = rng.choice(TOPICS, size=int(rng.integers(1, 4)), replace=False)
        topics.append([f"topic-{t:02d}" for t in sorted(chosen)])
    papers, labels = [], []
    for i in range(n):
        c = int(rng.integers(0, clusters))
        own = rng.choice(POOL_SENTENCES, size=7, replace=False)
        other = int(rng.integers(0, clusters))
        parts = [pools[c][j] for j in own] + [pools[other][int(rng.integers(0, POOL_SENTENCES))]]
        title = sentence(specifics[c], int(rng.integers(5, 10))).rstrip(".")
        abstract = " ".join(parts)
        paper = Paper(id=f"paper-{i:06d}", title=title, abstract=abstract, raw_title=title, raw_abstract=abstract)
        paper.topics = [TopicTag(topic=t, score=1.0) for t in topics[c]]
        papers.append(paper)
        labels.append(c)
    return papers, labels


def run_one(n: int) -> dict[str, float]:
    """Build a corpus of *n* papers and time compute_related on it (corpus generation is
    not timed).  Peak RSS is reported for this process and for the largest worker."""
    papers, labels = synthetic_papers(n, real_word_counts(ROOT / "content"))
    started = time.perf_counter()
    compute_related(papers, RelatedOptions())
    seconds = time.perf_counter() - started
    cluster = {p.id: c for p, c in zip(papers, labels)}
    links = [(cluster[p.id], cluster[r.id]) for p in papers for r in p.related]
    return {
        "papers": n,
        "seconds": seconds,
        # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN covers the finished workers.
        "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "links": len(links),
        "same_cluster": sum(a == b for a, b in links) / max(1, len(links)),
    }


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of *pid* and its descendants, in MB (0 where /proc has none).

    Forked workers share the parent's pages, so adding up their ru_maxrss overstates the
    memory in use; PSS splits each shared page among the processes that map it."""
    total_kb, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending += [int(c) for c in children.read().split()]
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                total_kb += sum(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, ValueError):
            continue  # gone, or not Linux
    return total_kb / 1024


def measure(n: int) -> dict[str, float]:
    """Run one size in a child process, sampling the memory of its process tree meanwhile."""
    child = subprocess.Popen([sys.executable, __file__, "--one", str(n)], stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while child.poll() is None:
        peak = max(peak, _tree_pss_mb(child.pid))
        time.sleep(0.2)
    out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"size {n} failed with exit code {child.returncode}")
    return {**json.loads(out), "total_pss_mb": peak}


def main(argv: list[str] | None = None) -> None:
    """Print a table of corpus size, seconds and peak memory, one subprocess per size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # run in the child
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    print(f"{'papers':>8} {'seconds':>8} {'peak RSS MB':>12} {'worker RSS MB':>14} {'all PSS MB':>11} {'links':>8} {'same cluster':>13}")
    for n in args.sizes:
        r = measure(n)
        print(
            f"{r['papers']:>8} {r['seconds']:>8.1f} {r['main_mb']:>12.0f} {r['worker_mb']:>14.0f}"
            f" {r['total_pss_mb']:>11.0f} {r['links']:>8} {r['same_cluster']:>13.1%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
