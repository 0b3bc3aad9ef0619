"""Scale benchmark: the whole pipeline and the MkDocs build on synthetic corpora.

For each size N it generates a deterministic corpus of listing files in the real format
(vocabulary drawn from the seed listings, duplicates across listings, every metadata
variant) and measures, in one run and on the same pages:

  (a) pipeline   the core alone: parse -> topics -> related -> layout -> render Markdown
                 and the exports (build_site, using forked helper processes as it does)
  (b) build      a full `mkdocs build` with the readinglist plugin (layout cache cleared)
  (c) baseline   `mkdocs build` of the same generated Markdown written to a docs folder,
                 with the plugin disabled: what MkDocs costs without this project

Each measurement runs in a fresh process; peak RSS is that process's own plus the largest
of its children's (an upper bound: memory the two share is counted twice).  Then it prints
a table and the ratios the targets are stated in:

  python benchmarks/scale.py                      # 300, 1000, 3000, 10000
  python benchmarks/scale.py --sizes 300 1000 --repeat 3 --json
  python benchmarks/scale.py --rebuild 3000       # live-edit rebuild vs cold build

With --json only a JSON list is printed: one object per size with n, pipeline_s, build_s,
baseline_s, peak_rss_mb, site_bytes, search_index_bytes, page_html_bytes (medians).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 25\n\n"
PER_LISTING = 400  # entries per synthetic listing file


# --- the synthetic corpus ---------------------------------------------------------------


def seed_texts() -> list[tuple[str, list[str]]]:
    """(title, abstract sentences) of the real seed papers: the vocabulary to draw from."""
    from generator.pipeline import load_catalog

    out = []
    for p in load_catalog(ROOT / "content"):
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", p.abstract) if len(s.split()) > 4]
        if sentences:
            out.append((p.title, sentences))
    return out


def make_corpus(n: int, dest: Path, seed: int = 7) -> dict[str, int]:
    """Write ``dest/content`` with N distinct papers in listing files plus sources.yaml and
    the real topics.yaml; returns counts.  Deterministic for (n, seed)."""
    rng = random.Random(seed * 1_000_003 + n)
    seeds = seed_texts()
    title_words = sorted({w for t, _ in seeds for w in re.findall(r"[A-Za-z][A-Za-z\-]{3,}", t)})
    papers = []
    # Papers come in clusters of about 30 around one seed paper, so similarity is not
    # noise and a paper has as many close neighbours in a small corpus as in a large one.
    clusters = max(1, min(len(seeds), n // 30))
    for i in range(n):
        base_title, base_sentences = seeds[((i % clusters) * 7919) % len(seeds)]
        other_title, other_sentences = seeds[rng.randrange(len(seeds))]
        words = base_title.replace(":", "").split()
        rng.shuffle(words)
        title = " ".join(words[: rng.randint(4, 9)] + rng.sample(title_words, 2)).strip()
        title = f"{title[:1].upper()}{title[1:]} {to_word(i)}"
        sentences = rng.sample(base_sentences, min(len(base_sentences), rng.randint(3, 6)))
        sentences += rng.sample(other_sentences, min(len(other_sentences), 2))
        papers.append((title, " ".join(sentences)))
    content = dest / "content"
    if content.exists():
        shutil.rmtree(content)
    (content / "sources").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "topics.yaml", content / "topics.yaml")
    listings = max(2, -(-n // PER_LISTING))
    assignment: list[list[int]] = [[] for _ in range(listings)]
    for i in range(n):
        assignment[i % listings].append(i)
        if rng.random() < 0.15:  # the same paper in a second listing
            assignment[(i + 1 + rng.randrange(listings - 1)) % listings].append(i)
    entries = 0
    yaml_lines = []
    for li, members in enumerate(assignment):
        blocks = []
        with_meta = li % 2 == 0
        for i in members:
            title, abstract = papers[i]
            blocks += [title, abstract]
            if with_meta:
                blocks.append(meta_block(rng))
            entries += 1
        (content / "sources" / f"listing-{li:03d}.txt").write_text(HEADER + "\n\n".join(blocks) + "\n", encoding="utf-8")
        yaml_lines.append(f"listing-{li:03d}:\n  title: Listing {li}\n  description: Synthetic listing {li}.\n  captured: 2025-12-25\n")
    (content / "sources.yaml").write_text("".join(yaml_lines), encoding="utf-8")
    return {"papers": n, "entries": entries, "listings": listings}


def meta_block(rng: random.Random) -> str:
    """One metadata group in any of the real variants."""
    kind = rng.randrange(5)
    who = f"  • {rng.randint(1, 30)} authors" if kind < 4 else "OPPOer OPPO"
    month, day = MONTHS[rng.randrange(12)], rng.randint(1, 28)
    date = [f"{month} {day}", f"{month} {day}, {rng.randint(2019, 2024)}", f"{month} {day} {rng.randint(1, 40)}",
            f"{month} {day}, {rng.randint(2019, 2024)} {rng.randint(1, 40)}", f"{month} {day}"][kind]
    return f"{who}\n·\n{date}"


def to_word(i: int) -> str:
    """A pronounceable, unique suffix for title i (keeps ids distinct without digits)."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    out = ""
    i += 1
    while i:
        i, r = divmod(i, len(consonants) * len(vowels))
        out += consonants[r % len(consonants)] + vowels[r // len(consonants)]
    return out.capitalize()


MKDOCS_YML = """\
site_name: Scale benchmark
site_url: https://example.org/
docs_dir: {docs}
site_dir: {site}
theme:
  name: material
  custom_dir: {templates}/overrides
  features: [navigation.instant, navigation.tabs]
plugins:
  - search
{plugin}markdown_extensions:
  - attr_list
  - md_in_html
  - sane_lists
  - tables
  - toc:
      permalink: true
extra_css: [assets/readinglist.css, assets/map.css]
nav:
  - Home: index.md
  - Topics: topics/index.md
  - Listings: lists/index.md
  - Timeline: timeline.md
  - Map: map.md
  - About: about.md
"""


def write_configs(work: Path) -> tuple[Path, Path]:
    """mkdocs.yml for (b) with the plugin and for (c) without it, over pre-written pages."""
    templates = ROOT / "site_templates"
    (work / "docs").mkdir(exist_ok=True)
    (work / "docs" / "about.md").write_text("# About\n\nSynthetic.\n", encoding="utf-8")
    plugin = f"  - readinglist:\n      content_dir: {work / 'content'}\n      templates_dir: {templates}\n"
    with_plugin = work / "mkdocs.yml"
    with_plugin.write_text(MKDOCS_YML.format(docs=work / "docs", site=work / "site-b", templates=templates, plugin=plugin), encoding="utf-8")
    baseline = work / "baseline.yml"
    baseline.write_text(MKDOCS_YML.format(docs=work / "docs-c", site=work / "site-c", templates=templates, plugin=""), encoding="utf-8")
    return with_plugin, baseline


# --- measurements, each in a fresh process ------------------------------------------------

_PIPELINE = """
import json, resource, sys, time
from pathlib import Path
t = time.perf_counter()
from generator.pipeline import build_site
site = build_site(Path(sys.argv[1]), Path(sys.argv[2]))
elapsed = time.perf_counter() - t
if len(sys.argv) > 3:  # also write the pages for the baseline build
    from generator.writer import write_site
    write_site(site, Path(sys.argv[3]))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"s": elapsed, "rss": rss / 1024}))
"""

_BUILD = """
import json, logging, resource, sys, time
t = time.perf_counter()
from mkdocs.commands.build import build
from mkdocs.config import load_config
logging.basicConfig(level=logging.WARNING)
build(load_config(sys.argv[1]))
# Pages are made in a forked process beside MkDocs: count the larger child's peak too (an
# upper bound, as pages the two share are counted twice).
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"s": time.perf_counter() - t, "rss": rss / 1024}))
"""

_REBUILD = """
import json, sys, time
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config
config_file, overrides, dirty = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "dirty"
# Like `mkdocs serve [--dirty]`: one process, the plugin kept, the config reloaded and the
# site rebuilt after an edit, with a thread running beside the build as the server's do
# (so the build, as under `mkdocs serve`, forks no helper process).
import threading
threading.Thread(target=threading.Event().wait, daemon=True).start()
config = load_config(config_file)
config.plugins.on_startup(command="serve", dirty=dirty)
t = time.perf_counter(); build(config, dirty=dirty); cold = time.perf_counter() - t
overrides.write_text(overrides.read_text() + '"' + sys.argv[4] + '":\\n  featured: true\\n', encoding="utf-8")
t = time.perf_counter(); build(load_config(config_file), dirty=dirty); warm = time.perf_counter() - t
print(json.dumps({"cold": cold, "warm": warm}))
"""


def run(code: str, *args: str) -> dict:
    # The step before may have written hundreds of MB (a site, a docs folder) that the
    # kernel is still writing back: flushed first, so that it does not run during this one.
    os.sync()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    # Measured as installed: compiled modules are kept, as Python does unless told not to
    # (an environment saying so would make every run compile the project again).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(n: int, repeat: int, work: Path, log) -> dict:
    counts = make_corpus(n, work)
    with_plugin, baseline = write_configs(work)
    templates = ROOT / "site_templates"
    rows = []
    for r in range(repeat):
        log(f"n={n} run {r + 1}/{repeat}: pipeline")
        shutil.rmtree(work / "docs-c", ignore_errors=True)
        a = run(_PIPELINE, str(work / "content"), str(templates), str(work / "docs-c"))
        (work / "docs-c" / "about.md").write_text("# About\n\nSynthetic.\n", encoding="utf-8")
        log(f"n={n} run {r + 1}/{repeat}: build with plugin")
        shutil.rmtree(work / ".cache", ignore_errors=True)  # cold: no cached layout
        b = run(_BUILD, str(with_plugin))
        log(f"n={n} run {r + 1}/{repeat}: baseline build")
        c = run(_BUILD, str(baseline))
        rows.append((a, b, c))
    site = work / "site-b"
    pages = sorted((p / "index.html").stat().st_size for p in (site / "papers").iterdir() if (p / "index.html").exists())
    med = statistics.median
    return {
        "n": n,
        "entries": counts["entries"],
        "pipeline_s": round(med(a["s"] for a, _, _ in rows), 3),
        "build_s": round(med(b["s"] for _, b, _ in rows), 3),
        "baseline_s": round(med(c["s"] for _, _, c in rows), 3),
        "peak_rss_mb": round(med(b["rss"] for _, b, _ in rows), 1),
        "pipeline_rss_mb": round(med(a["rss"] for a, _, _ in rows), 1),
        "baseline_rss_mb": round(med(c["rss"] for _, _, c in rows), 1),
        "site_bytes": dir_bytes(site),
        "search_index_bytes": (site / "search" / "search_index.json").stat().st_size,
        "page_html_bytes": pages[len(pages) // 2],
        "map_html_bytes": (site / "map" / "index.html").stat().st_size,
    }


def table(results: list[dict]) -> str:
    head = ["N", "pipeline s", "build s", "baseline s", "(b)/(c)", "build ms/paper", "peak RSS MB", "site MB",
            "search index B/paper", "paper page KB", "map page KB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        lines.append("| " + " | ".join([
            f"{r['n']:,}", f"{r['pipeline_s']:.2f}", f"{r['build_s']:.1f}", f"{r['baseline_s']:.1f}",
            f"{r['build_s'] / r['baseline_s']:.2f}", f"{1000 * r['build_s'] / r['n']:.1f}", f"{r['peak_rss_mb']:.0f}",
            f"{r['site_bytes'] / 1e6:.1f}", f"{r['search_index_bytes'] / r['n']:.0f}", f"{r['page_html_bytes'] / 1e3:.1f}",
            f"{r['map_html_bytes'] / 1e3:.0f}",
        ]) + " |")
    return "\n".join(lines)


def verdict(results: list[dict]) -> list[str]:
    by_n = {r["n"]: r for r in results}
    out = []
    for n in (1000, 10000):
        if n in by_n:
            ratio = by_n[n]["build_s"] / by_n[n]["baseline_s"]
            out.append(f"(b)/(c) at {n:,}: {ratio:.2f} (target <= 1.10) {'ok' if ratio <= 1.10 else 'MISSED'}")
    if 1000 in by_n and 10000 in by_n:
        per = (by_n[10000]["build_s"] / 10000) / (by_n[1000]["build_s"] / 1000)
        out.append(f"per-paper build cost 10,000 vs 1,000: {per:.2f}x (target <= 1.2) {'ok' if per <= 1.2 else 'MISSED'}")
    if 300 in by_n and 10000 in by_n:
        page = by_n[10000]["page_html_bytes"] / by_n[300]["page_html_bytes"]
        out.append(f"paper page size 10,000 vs 300: {page:.2f}x (target <= 1.1) {'ok' if page <= 1.1 else 'MISSED'}")
    if 10000 in by_n:
        r = by_n[10000]
        out.append(f"pipeline at 10,000: {r['pipeline_s']:.2f} s (target < 5) {'ok' if r['pipeline_s'] < 5 else 'MISSED'}")
        out.append(f"peak RSS of (b) at 10,000: {r['peak_rss_mb']:.0f} MB (target < 2048) {'ok' if r['peak_rss_mb'] < 2048 else 'MISSED'}")
        out.append(f"map page at 10,000: {r['map_html_bytes'] / 1e6:.2f} MB (target < 2) {'ok' if r['map_html_bytes'] < 2e6 else 'MISSED'}")
    return out


def rebuild(n: int, work: Path, log) -> dict:
    """A one-line edit of overrides.yaml under a long-lived process, against a cold build."""
    make_corpus(n, work)
    with_plugin, _ = write_configs(work)
    shutil.rmtree(work / ".cache", ignore_errors=True)
    overrides = work / "content" / "overrides.yaml"
    overrides.write_text("# hand edits\n", encoding="utf-8")
    from generator.pipeline import load_catalog

    first = load_catalog(work / "content")[0].id
    out = {}
    for mode in ("full", "dirty"):
        shutil.rmtree(work / ".cache", ignore_errors=True)
        overrides.write_text("# hand edits\n", encoding="utf-8")
        log(f"n={n}: cold build, then rebuild after editing overrides.yaml ({mode})")
        r = run(_REBUILD, str(with_plugin), str(overrides), mode, first)
        out[f"{mode}_cold_s"], out[f"{mode}_rebuild_s"] = round(r["cold"], 2), round(r["warm"], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000, 10000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print only a JSON list of results")
    parser.add_argument("--rebuild", type=int, metavar="N", help="measure a live-edit rebuild at N papers instead")
    parser.add_argument("--keep", type=Path, help="keep the generated corpora and sites in this folder")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        if not args.json:
            print(f"  {msg}", file=sys.stderr, flush=True)

    base = args.keep or Path(tempfile.mkdtemp(prefix="readinglist-scale-"))
    # The first use of an installation compiles its modules: not part of any measurement.
    run("import generator.pipeline, generator.plugin, mkdocs.commands.build; print('{}')")
    try:
        if args.rebuild:
            r = rebuild(args.rebuild, base / f"n{args.rebuild}", log)
            if args.json:
                print(json.dumps(r))
            else:
                for mode, label in (("full", "mkdocs serve"), ("dirty", "mkdocs serve --dirty")):
                    cold, warm = r[f"{mode}_cold_s"], r[f"{mode}_rebuild_s"]
                    print(f"{label}: cold build {cold:.1f} s, rebuild after a one-line overrides.yaml edit "
                          f"{warm:.1f} s ({warm / cold:.2f} of cold)")
            return 0
        results = []
        for n in args.sizes:
            (base / f"n{n}").mkdir(parents=True, exist_ok=True)
            results.append(measure(n, args.repeat, base / f"n{n}", log))
        if args.json:
            keys = ["n", "pipeline_s", "build_s", "baseline_s", "peak_rss_mb", "site_bytes", "search_index_bytes", "page_html_bytes"]
            print(json.dumps([{k: r[k] for k in keys} for r in results]))
        else:
            print(table(results))
            print()
            print("\n".join(verdict(results)))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
