"""The topic taxonomy: loading and validating topics.yaml, scoring and assigning topics, the
report, and how well the real taxonomy fits the real corpus."""

from __future__ import annotations

import functools
import random
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from generator import topics as topics_module
from generator.diagnostics import Diagnostics, Location
from generator.models import Paper, TopicTag
from generator.topics import (
    ManualTopics,
    Taxonomy,
    assign_topics,
    cooccurring,
    load_taxonomy,
    topic_counts,
    topic_report,
)

from .conftest import CONTENT, ROOT

TAXONOMY = """\
settings:
  threshold: 2.0
  max_per_paper: 2
topics:
  - id: multi-task-learning
    name: Multi-task learning
    description: Many tasks in one model.
    aliases: [MTL]
    match:
      phrases: [multi-task learning, task conflict]
  - id: model-merging
    name: Model merging
    description: Merging fine-tuned models.
    parent: multi-task-learning
    match:
      phrases: [model merging, task vector]
  - id: speech
    name: Speech
    description: Spoken language.
    match:
      phrases: [speech, speech recognition]
      exclude: [speech act]
  - id: continual-learning
    name: Continual learning
    description: Learning without forgetting.
    match:
      phrases: [forgetting, catastrophic forgetting]
  - id: general
    name: General
    description: Everything else.
    fallback: true
    intentional_small: true
    match:
      phrases: [neural network]
"""


def paper(pid: str, title: str, abstract: str = "", hidden: bool = False) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, raw_title=title, raw_abstract=abstract, hidden=hidden)


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[Taxonomy, list[str]]:
    """Load *text* as ``topics.yaml`` from the working directory, so messages say ``topics.yaml:L:C``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "topics.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    diagnostics = Diagnostics()
    taxonomy = load_taxonomy(Path("topics.yaml"), diagnostics)
    return taxonomy, [f"{d.level}: {d}" for d in diagnostics.items]


@pytest.fixture
def taxonomy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Taxonomy:
    tax, messages = load(tmp_path, monkeypatch, TAXONOMY)
    assert messages == []
    return tax


def tags(p: Paper) -> list[tuple[str, float, bool, str | None]]:
    return [(t.topic, t.score, t.manual, t.inherited_from) for t in p.topics]


def assign(taxonomy: Taxonomy, papers: list[Paper], manual: dict[str, ManualTopics] | None = None) -> list[str]:
    diagnostics = Diagnostics()
    assign_topics(papers, taxonomy, manual or {}, diagnostics)
    return [f"{d.level}: {d}" for d in diagnostics.items]


# ---------------------------------------------------------------------------- scoring


def test_a_phrase_in_the_title_outweighs_one_in_the_abstract(taxonomy):
    assert taxonomy.score("Speech in the wild", "") == {"speech": (3.0, ['title: "speech"'])}
    assert taxonomy.score("In the wild", "We transcribe speech.") == {"speech": (1.0, ['abstract: "speech"'])}
    assert taxonomy.score("Speech in the wild", "We transcribe speech.") == {
        "speech": (4.0, ['title: "speech"', 'abstract: "speech"'])
    }


def test_repeated_abstract_mentions_add_a_little_up_to_a_cap(taxonomy):
    twice = "Speech here. More speech."
    five = "speech " * 5
    assert taxonomy.score("T", twice) == {"speech": (1.5, ['abstract: "speech" ×2'])}
    assert taxonomy.score("T", five) == {"speech": (2.0, ['abstract: "speech" ×5'])}


def test_distinct_phrases_add_up(taxonomy):
    scores = taxonomy.score("T", "Task conflict hurts multi-task learning.")
    assert scores == {"multi-task-learning": (2.0, ['abstract: "multi-task learning"', 'abstract: "task conflict"'])}


def test_a_phrase_is_not_matched_across_a_clause_boundary(taxonomy):
    # "pre-trained language models (PLMs)" once read as "... language model pretraining ...".
    assert taxonomy.score("T", "We study multi. Task learning is hard; task (conflict) too.") == {}
    assert taxonomy.score("T", "We study multi-task learning, and its task conflict.") == {
        "multi-task-learning": (2.0, ['abstract: "multi-task learning"', 'abstract: "task conflict"'])
    }


@pytest.mark.parametrize("spelling", ["Multi-Task Learning", "multitask learning", "Multi task learning", "MTL"])
def test_every_spelling_of_a_phrase_matches_the_same(taxonomy, spelling):
    assert taxonomy.score(f"{spelling} at scale", "") == {"multi-task-learning": (3.0, ['title: "multi-task learning"'])}


def test_evidence_shows_phrases_as_written_and_abbreviations_spelled_out(tmp_path, monkeypatch):
    tax, messages = load(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: lora
            name: LoRA
            description: Low-rank adapters.
            aliases: [LoRA]
            match: {phrases: [self-supervised]}
        """,
    )
    assert messages == []
    assert tax.score("Low-Rank Adaptation, self supervised", "") == {
        "lora": (6.0, ['title: "self-supervised"', 'title: "low rank adaptation"'])
    }


def test_a_phrase_inside_a_longer_phrase_of_the_topic_counts_once(taxonomy):
    assert taxonomy.score("T", "We study catastrophic forgetting.") == {
        "continual-learning": (1.0, ['abstract: "catastrophic forgetting"'])
    }
    # On its own the shorter phrase still counts.  Evidence is listed in the order of the rules.
    assert taxonomy.score("T", "Catastrophic forgetting, and forgetting again.") == {
        "continual-learning": (2.0, ['abstract: "forgetting"', 'abstract: "catastrophic forgetting"'])
    }


def test_an_exclude_phrase_rules_the_topic_out(taxonomy):
    assert taxonomy.score("Speech recognition of speech acts", "") == {}
    assert taxonomy.score("Speech recognition", "")["speech"][0] == 3.0


def test_title_phrases_require_and_patterns(tmp_path, monkeypatch):
    tax, messages = load(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: benchmarks
            name: Benchmarks
            description: New benchmarks.
            match:
              title_phrases: [benchmark]
              patterns: ['\\bwe (?:introduce|release) a \\w+ benchmark\\b']
          - id: ml-image
            name: Multi-label images
            description: Images with many labels.
            match:
              require: [multi-label]
              phrases: [image]
        """,
    )
    assert messages == []
    assert tax.score("A benchmark", "") == {"benchmarks": (3.0, ['title: "benchmark"'])}
    assert tax.score("T", "A benchmark. Another benchmark.") == {}  # title only
    assert tax.score("T", "We introduce a new benchmark.") == {
        "benchmarks": (1.0, ['abstract: "we introduce a new benchmark"'])
    }
    assert tax.score("Image tagging", "") == {}  # required word missing
    assert tax.score("Image tagging", "Multi-label data.") == {"ml-image": (3.0, ['title: "image"'])}
    # A pattern may span a clause boundary; its evidence reads as written, without the mark.
    assert tax.score("T", "We release a (new) benchmark.") == {}  # \w+ is one word, "(new)" is not
    assert tax.score("T", "We release a, benchmark") == {"benchmarks": (1.0, ['abstract: "we release a benchmark"'])}


# ---------------------------------------------------------------------------- assigning


def test_threshold_separates_strong_from_weak_tags(taxonomy):
    strong = paper("strong", "Speech at scale")
    weak = paper("weak", "Some title", "It mentions speech once.")
    assert assign(taxonomy, [strong, weak]) == []
    assert tags(strong) == [("speech", 3.0, False, None)]
    # Nothing reached the threshold: the best guess is kept and recognisably weak.
    assert tags(weak) == [("speech", 1.0, False, None)]
    assert [taxonomy.is_weak(t) for t in strong.topics + weak.topics] == [False, True]


def test_max_per_paper_keeps_the_best_and_breaks_ties_by_id(taxonomy):
    p = paper("p", "Speech, catastrophic forgetting and neural network pruning")
    assert assign(taxonomy, [p]) == []
    # All three score 3.0; max_per_paper is 2, so the two smallest ids win, in id order.
    assert tags(p) == [("continual-learning", 3.0, False, None), ("general", 3.0, False, None)]


def test_a_sub_topic_brings_its_parent_which_takes_no_place(taxonomy):
    p = paper("p", "Model merging for speech recognition with catastrophic forgetting")
    assert assign(taxonomy, [p]) == []
    # Three topics tie at 3.0 and max_per_paper is 2: the first two by id, plus the parent.
    assert tags(p) == [
        ("continual-learning", 3.0, False, None),
        ("model-merging", 3.0, False, None),
        ("multi-task-learning", 3.0, False, "model-merging"),
    ]
    assert p.topics[2].reason == "parent of model-merging"
    assert p.topics[1].reason == 'matched title: "model merging"'


def test_parent_matched_directly_and_through_a_child_takes_one_place(taxonomy):
    p = paper("p", "Model merging for multi-task learning", "Speech recognition of speech.")
    assert assign(taxonomy, [p]) == []
    # model-merging and its parent count as one place, so speech still fits under max_per_paper 2.
    assert tags(p) == [
        ("model-merging", 3.0, False, None),
        ("multi-task-learning", 3.0, False, None),
        ("speech", 2.0, False, None),
    ]
    assert p.topics[1].matched == ['title: "multi-task learning"']


def test_inherit_parent_false_keeps_the_parent_out(tmp_path, monkeypatch):
    tax, messages = load(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: vision
            name: Vision
            description: Seeing.
            match: {phrases: [image]}
          - id: remote-sensing
            name: Remote sensing
            description: Satellites.
            parent: vision
            inherit_parent: false
            match: {phrases: [satellite]}
        """,
    )
    assert messages == []
    p = paper("p", "Satellite views")
    assign(tax, [p])
    assert tags(p) == [("remote-sensing", 3.0, False, None)]


def test_hierarchy_helpers(taxonomy):
    assert [t.id for t in taxonomy.children("multi-task-learning")] == ["model-merging"]
    assert taxonomy.children("speech") == []
    assert taxonomy.ancestors("model-merging") == ["multi-task-learning"]
    assert taxonomy.inherited("model-merging") == ["multi-task-learning"]
    assert taxonomy.get("speech").name == "Speech"
    assert taxonomy.get("nope") is None
    assert (taxonomy.is_leaf("model-merging"), taxonomy.is_leaf("multi-task-learning")) == (True, False)


def test_manual_additions_and_removals_win_over_rules(taxonomy):
    p = paper("p", "Model merging for speech")
    manual = {"p": ManualTopics(add=["continual-learning"], remove=["model-merging"])}
    assert assign(taxonomy, [p], manual) == []
    # Added by hand first, always kept; the removed topic and the parent it would bring are gone.
    assert tags(p) == [("continual-learning", 0.0, True, None), ("speech", 3.0, False, None)]
    assert p.topics[0].reason == "added by hand"


def test_manual_additions_are_kept_beyond_max_per_paper(taxonomy):
    p = paper("p", "Speech, catastrophic forgetting and neural networks")
    manual = {"p": ManualTopics(add=["general", "model-merging", "speech"], remove=[])}
    assign(taxonomy, [p], manual)
    assert tags(p) == [
        ("general", 3.0, True, None),
        ("speech", 3.0, True, None),
        ("model-merging", 0.0, True, None),
        ("multi-task-learning", 0.0, False, "model-merging"),
    ]


def test_removing_a_parent_stops_inheritance(taxonomy):
    p = paper("p", "Model merging")
    assign(taxonomy, [p], {"p": ManualTopics(add=[], remove=["multi-task-learning"])})
    assert tags(p) == [("model-merging", 3.0, False, None)]


def test_unknown_topic_ids_in_hand_edits_are_errors_with_a_suggestion(taxonomy):
    where = Location("overrides.yaml", 3, 5)
    manual = {
        "p": ManualTopics(add=["model-merge"], remove=["zzz"], location=where),
        "q": ManualTopics(add=["speech"], remove=["speech"], location=where),
    }
    messages = assign(taxonomy, [paper("p", "Speech"), paper("q", "Speech")], manual)
    assert messages == [
        "error: overrides.yaml:3:5: unknown topic 'model-merge' in topics of 'p'; did you mean 'model-merging'?",
        "error: overrides.yaml:3:5: unknown topic 'zzz' in topics of 'p'",
        "error: overrides.yaml:3:5: topic 'speech' is both added and removed for 'q'",
    ]


def test_every_paper_gets_a_topic_with_the_fallback_last(taxonomy):
    nothing = paper("nothing", "Quantum gravity", "Strings and branes.")
    assert assign(taxonomy, [nothing]) == []
    assert tags(nothing) == [("general", 0.0, False, None)]
    assert nothing.topics[0].reason == "matched nothing; general fallback topic"


def test_without_a_fallback_an_unmatched_paper_is_a_warning(tmp_path, monkeypatch):
    tax, _ = load(tmp_path, monkeypatch, "topics:\n  - {id: a, name: A, description: A., match: {phrases: [x]}}\n")
    p = paper("p", "Nothing here")
    assert assign(tax, [p]) == ["warning: paper 'p' matches no topic and the taxonomy has no fallback topic"]
    assert p.topics == []


def test_tags_and_warnings_made_in_two_processes_keep_the_order_of_the_papers(tmp_path, monkeypatch):
    from generator.workers import Forked

    tax, _ = load(tmp_path, monkeypatch, "topics:\n  - {id: a, name: A, description: A., match: {phrases: [x]}}\n")
    papers = [paper(f"p{i}", "X marks" if i % 2 else "Nothing here") for i in range(6)]
    alone = assign(tax, papers)
    alone_tags = [tags(p) for p in papers]
    assert alone == [f"warning: paper 'p{i}' matches no topic and the taxonomy has no fallback topic" for i in (0, 2, 4)]
    monkeypatch.setattr(topics_module, "SPLIT_MIN_PAPERS", 2)
    monkeypatch.setattr(topics_module, "PAPERS_PER_CLAIM", 1)
    monkeypatch.setattr(topics_module, "can_fork", lambda: True)
    forked = []
    monkeypatch.setattr(topics_module, "Forked", lambda work: forked.append(1) or Forked(work))
    score = Taxonomy._score_normalised
    # Slow enough that the helper, started a little later, takes papers too.
    monkeypatch.setattr(Taxonomy, "_score_normalised", lambda *a: time.sleep(0.05) or score(*a))
    again = [paper(p.id, p.title) for p in papers]
    assert assign(tax, again) == alone and [tags(p) for p in again] == alone_tags and forked == [1]


def test_assignment_is_deterministic(taxonomy):
    def run(order: list[int]) -> dict[str, list]:
        base = [
            paper("a", "Speech and model merging", "Catastrophic forgetting of neural networks."),
            paper("b", "Neural network speech", "Task vectors."),
            paper("c", "Multi-task learning", "Speech; forgetting; model merging."),
        ]
        ps = [base[i] for i in order]
        assign(taxonomy, ps)
        return {p.id: [(t.topic, t.score, t.matched, t.inherited_from) for t in p.topics] for p in ps}

    first = run([0, 1, 2])
    for seed in range(5):
        order = [0, 1, 2]
        random.Random(seed).shuffle(order)
        assert run(order) == first


# ---------------------------------------------------------------------------- counts and report


def test_counts_and_cooccurrence_ignore_hidden_papers(taxonomy):
    ps = [
        paper("a", "Model merging for speech"),
        paper("b", "Model merging with catastrophic forgetting"),
        paper("c", "Speech and catastrophic forgetting"),
        paper("d", "Speech and model merging", hidden=True),
    ]
    assign(taxonomy, ps)
    assert topic_counts(ps) == {"continual-learning": 2, "model-merging": 2, "multi-task-learning": 2, "speech": 2}
    # The parent that model-merging itself brings in is not reported as co-occurring with it.
    assert cooccurring(ps, "model-merging") == [("continual-learning", 1), ("speech", 1)]
    assert cooccurring(ps, "multi-task-learning") == [("model-merging", 2), ("continual-learning", 1), ("speech", 1)]
    assert cooccurring(ps, "speech", limit=1) == [("continual-learning", 1)]


def test_report_lists_sizes_weak_and_fallback_papers_and_suggestions(taxonomy):
    ps = [
        paper("a", "Model merging of graph transformers"),
        paper("b", "Graph transformers for molecules", "We add speech."),
        paper("c", "Sparse graph transformers", "Nothing else."),
        paper("d", "Hidden", hidden=True),
    ]
    assign(taxonomy, ps)
    report = topic_report(ps, taxonomy)
    assert report.format() == textwrap.dedent(
        """\
        5 topics, 3 papers, threshold 2

        Papers per topic:
          multi-task-learning  1  33.3%
            model-merging  1  33.3%
          speech  1  33.3%
          continual-learning  0  0.0%
          general  1  33.3%

        Papers with only a weak match: 1
          b -> speech (score 1: abstract: "speech")

        Papers that matched nothing (given the fallback topic): 1
          c

        Topics with fewer than 2 papers: 4
          multi-task-learning  1
          model-merging  1
          speech  1
          continual-learning  0

        Leaf topics with more than 25% of the papers: 3
          model-merging  1
          speech  1
          general  1

        Frequent title terms among weakly matched papers: 3
          graph  2
          graph transformer  2
          transformer  2
        """
    )


# ---------------------------------------------------------------------------- invalid taxonomies


def errors_for(tmp_path, monkeypatch, text: str) -> list[str]:
    return load(tmp_path, monkeypatch, text)[1]


def test_unknown_parent_names_the_closest_id(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: multi-task-learning
            name: MTL
            description: Many tasks.
            match: {phrases: [multi-task]}
          - id: model-merging
            name: Merging
            description: Merge.
            parent: multitask-learning
            match: {phrases: [merge]}
        """,
    ) == [
        "error: topics.yaml:9:13: unknown parent 'multitask-learning' for topic 'model-merging'; "
        "did you mean 'multi-task-learning'?"
    ]


def test_parent_cycles_are_reported_once_and_cut(tmp_path, monkeypatch):
    text = """\
        topics:
          - {id: a, name: A, description: A., parent: c, match: {phrases: [a]}}
          - {id: b, name: B, description: B., parent: a, match: {phrases: [b]}}
          - {id: c, name: C, description: C., parent: b, match: {phrases: [c]}}
          - {id: d, name: D, description: D., parent: d, match: {phrases: [d]}}
        """
    tax, messages = load(tmp_path, monkeypatch, text)
    assert messages == [
        "error: topics.yaml:2:47: parent cycle: a -> c -> b -> a",
        "error: topics.yaml:5:47: parent cycle: d -> d",
    ]
    # The taxonomy stays walkable.
    assert tax.ancestors("b") == ["a"]
    assert tax.inherited("c") == ["b", "a"]


def test_duplicate_ids_missing_fields_and_bad_slugs(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: speech
            name: Speech
            description: Spoken language.
            match: {phrases: [speech]}
          - id: speech
            name: Speech again
            description: Twice.
          - id: no-name
            description: Nameless.
          - name: No id
            description: Anonymous.
          - id: Model Merging
            name: Merging
            description: Merge.
        """,
    ) == [
        "error: topics.yaml:6:5: duplicate topic id 'speech' (first at line 2)",
        "error: topics.yaml:9:5: topic 'no-name' needs a name",
        "error: topics.yaml:11:5: topic #4 needs an id",
        "error: topics.yaml:13:9: topic id 'Model Merging' must be a slug (lowercase letters, digits and hyphens), "
        "e.g. 'model-merging'",
    ]


def test_bad_patterns_say_what_is_wrong(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: speech
            name: Speech
            description: Spoken language.
            match:
              patterns: ['speech (recognition']
        """,
    ) == [
        "error: topics.yaml:6:18: topic 'speech': invalid pattern 'speech (recognition': "
        "missing ), unterminated subpattern at position 7"
    ]


def test_unknown_keys_suggest_the_intended_one(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        settings:
          treshold: 3
        topics:
          - id: speech
            name: Speech
            descripton: Spoken language.
            match:
              phrase: [speech]
        """,
    ) == [
        "error: topics.yaml:2:3: unknown key 'treshold' in settings; did you mean 'threshold'? (valid keys: "
        "abstract_repeat_bonus, abstract_repeat_cap, abstract_weight, max_per_paper, threshold, title_weight)",
        "error: topics.yaml:6:5: unknown key 'descripton' in topic 'speech'; did you mean 'description'? (valid keys: "
        "aliases, description, fallback, id, inherit_parent, intentional_small, match, name, parent)",
        "error: topics.yaml:4:5: topic 'speech' needs a description",
        "error: topics.yaml:8:7: unknown key 'phrase' in topic 'speech': match; did you mean 'phrases'? (valid keys: "
        "exclude, patterns, phrases, require, title_phrases)",
    ]


def test_wrong_types_and_out_of_range_settings(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        settings:
          threshold: 0
          max_per_paper: 50
          title_weight: heavy
        topics:
          - id: speech
            name: Speech
            description: Spoken language.
            aliases: ASR
            intentional_small: yes
            match:
              phrases: speech
        """,
    ) == [
        "error: topics.yaml:2:14: settings.threshold must be greater than 0, not 0",
        "error: topics.yaml:3:18: settings.max_per_paper must be at most 20, not 50",
        "error: topics.yaml:4:17: settings.title_weight must be a number, not 'heavy'",
        "error: topics.yaml:9:14: topic 'speech': aliases must be a list, not 'ASR'",
        "error: topics.yaml:10:24: topic 'speech': intentional_small must be true or false, not 'yes'",
        "error: topics.yaml:12:16: topic 'speech': match.phrases must be a list, not 'speech'",
    ]


def test_inherit_parent_without_a_parent_is_an_error(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: speech
            name: Speech
            description: Spoken language.
            inherit_parent: true
            match: {phrases: [speech]}
        """,
    ) == ["error: topics.yaml:5:21: topic 'speech': inherit_parent needs a parent"]


def test_bad_yaml_missing_file_and_second_fallback(tmp_path, monkeypatch):
    assert errors_for(tmp_path, monkeypatch, "topics:\n  - id: [unclosed\n") == [
        "error: topics.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]
    assert errors_for(tmp_path, monkeypatch, "") == ["error: topics.yaml: the file is empty; it needs a 'topics' list"]
    diagnostics = Diagnostics()
    load_taxonomy(Path("missing/topics.yaml"), diagnostics)
    assert [str(d) for d in diagnostics.items] == ["missing/topics.yaml: topics file not found"]
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - {id: a, name: A, description: A., fallback: true}
          - {id: b, name: B, description: B., fallback: true, match: {phrases: [b]}}
        """,
    ) == ["error: topics.yaml:3:5: only one topic can be the fallback; 'a' already is (line 2)"]


def test_all_errors_are_collected_and_the_rest_stays_usable(tmp_path, monkeypatch):
    tax, messages = load(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: good
            name: Good
            description: Fine.
            match: {phrases: [good]}
          - id: bad-parent
            name: Bad
            description: Orphan.
            parent: nowhere
            match: {phrases: [orphan]}
          - id: bad-pattern
            name: Bad pattern
            description: Broken.
            match: {patterns: ['[']}
          - id: quiet
            name: Quiet
            description: No rules at all.
        """,
    )
    assert messages == [
        "error: topics.yaml:14:24: topic 'bad-pattern': invalid pattern '[': "
        "unterminated character set at position 0",
        "error: topics.yaml:9:13: unknown parent 'nowhere' for topic 'bad-parent'",
        "warning: topics.yaml:15:5: topic 'quiet' has no phrases, patterns or sub-topics; only hand edits can assign it",
    ]
    assert [t.id for t in tax.topics] == ["good", "bad-parent", "bad-pattern", "quiet"]
    assert tax.get("bad-parent").parent is None
    assert tax.score("Good orphans", "") == {"good": (3.0, ['title: "good"']), "bad-parent": (3.0, ['title: "orphan"'])}


def test_spellings_that_normalise_alike_are_a_warning(tmp_path, monkeypatch):
    assert errors_for(
        tmp_path,
        monkeypatch,
        """\
        topics:
          - id: mtl
            name: MTL
            description: Many tasks.
            match:
              phrases: [multi-task learning, Multitask Learning, tasks]
              title_phrases: [task]
        """,
    ) == [
        "warning: topics.yaml:6:38: topic 'mtl': 'Multitask Learning' matches the same words as 'multi-task learning'",
        "warning: topics.yaml:7:23: topic 'mtl': 'task' matches the same words as 'tasks'",
    ]


# ---------------------------------------------------------------------------- speed


def test_tagging_10000_papers_against_50_topics_is_fast(tmp_path, monkeypatch):
    # Normalising text belongs to generator.textnorm and is measured there; here it is
    # memoised so that the test measures the tagger itself: the scan, scoring and choosing.
    monkeypatch.setattr(topics_module, "normalise", functools.lru_cache(maxsize=None)(topics_module.normalise))
    topics = "\n".join(
        f"  - {{id: topic-{i}, name: Topic {i}, description: Topic {i}., "
        f"match: {{phrases: [word{i}, word{i} model, task word{i}, multi-task word{i}]}}}}"
        for i in range(50)
    )
    tax, messages = load(tmp_path, monkeypatch, "topics:\n" + topics + "\n")
    assert messages == [] and len(tax.topics) == 50
    # Abstract-sized texts (about 250 words) in which rule words occur now and then.
    vocabulary = [f"term{i}" for i in range(400)] + ["task", "model", "multi-task", "learning"] * 20
    vocabulary += [f"word{i}" for i in range(50)]
    rng = random.Random(0)
    texts = [(" ".join(rng.choices(vocabulary, k=10)), " ".join(rng.choices(vocabulary, k=250))) for _ in range(200)]
    papers = [paper(f"p{i}", *texts[i % 200]) for i in range(10_000)]
    for p in papers:  # warm the memo so that only the tagger is timed
        topics_module.normalise(p.title), topics_module.normalise(p.abstract)
    started = time.process_time()
    assign(tax, papers)
    elapsed = time.process_time() - started
    assert all(p.topics for p in papers)
    assert elapsed < 2.0, f"{elapsed:.2f}s"


# ---------------------------------------------------------------------------- the real taxonomy and corpus


@pytest.fixture(scope="module")
def real() -> tuple[Taxonomy, list[Paper]]:
    from generator.pipeline import load_catalog

    diagnostics = Diagnostics()
    taxonomy = load_taxonomy(CONTENT / "topics.yaml", diagnostics)
    assert [str(d) for d in diagnostics.items] == []
    papers = load_catalog(CONTENT)
    assign_topics(papers, taxonomy, {}, diagnostics)
    assert [str(d) for d in diagnostics.items] == []
    return taxonomy, papers


def test_real_taxonomy_covers_every_paper_within_size_limits(real):
    taxonomy, papers = real
    assert len(papers) == 295
    assert 25 <= len(taxonomy.topics) <= 50
    assert [p.id for p in papers if not p.topics] == []
    report = topic_report(papers, taxonomy)
    assert report.oversized == []
    assert report.small == []
    # Rules good enough that no paper needs the fallback topic.
    assert report.fallback == []
    counts = topic_counts(papers)
    assert max(counts[t.id] for t in taxonomy.topics if taxonomy.is_leaf(t.id)) <= 0.25 * len(papers)


def test_real_taxonomy_keeps_clearly_related_papers_together(real):
    _, papers = real
    by_id = {p.id: p for p in papers}
    groups = yaml.safe_load((ROOT / "tests" / "data" / "topic_groups.yaml").read_text(encoding="utf-8"))["groups"]
    assert len(groups) >= 12
    unknown = [pid for ids in groups.values() for pid in ids if pid not in by_id]
    assert unknown == []
    apart = [name for name, ids in groups.items() if not set.intersection(*(set(by_id[i].topic_ids) for i in ids))]
    share = 1 - len(apart) / len(groups)
    assert share >= 0.9, f"groups without a shared topic: {apart}"


def test_real_tags_explain_themselves(real):
    taxonomy, papers = real
    by_id = {p.id: p for p in papers}
    merging = by_id["adamerging-adaptive-model-merging-for-multi-task-learning"]
    assert merging.topic_ids[:2] == ["model-merging", "multi-task-learning"]
    assert merging.topics[0].matched[0].startswith('abstract: "merged model"')
    for p in papers:
        for tag in p.topics:
            assert isinstance(tag, TopicTag)
            assert tag.inherited_from or tag.matched, (p.id, tag.topic)
            assert taxonomy.get(tag.topic) is not None
