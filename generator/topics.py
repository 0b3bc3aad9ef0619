"""Topics: the hand-written taxonomy (``content/topics.yaml``), the rule-based tagger and a
report that helps the maintainer improve the rules.

A topic is assigned to a paper when the phrases of its ``match`` rules (and its aliases)
occur in the paper's title or abstract.  Rules and papers are both read through
:func:`generator.textnorm.normalise`, so ``multi-task``, ``multitask`` and ``MTL`` are the
same words to a rule.  Every tag keeps the words that caused it, so readers and the
maintainer can see why a paper carries a topic.

Scoring, per topic, over its distinct phrases and patterns that occur in the paper:

* found in the title: ``title_weight``;
* found in the abstract: ``abstract_weight``, plus ``abstract_repeat_bonus`` for each further
  mention, at most ``abstract_repeat_cap`` extra (a paper *about* something says it often,
  but one word said ten times is not ten pieces of evidence);
* a phrase found inside a longer phrase of the same topic ("forgetting" inside
  "catastrophic forgetting") is not counted again; patterns always count.

A topic is assigned when its score reaches ``threshold``, best first, at most
``max_per_paper`` per paper.  A paper below the threshold everywhere still gets its best
topic, as a *weak* tag (:meth:`Taxonomy.is_weak`), and a paper that matches nothing gets the
topic marked ``fallback: true``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from .diagnostics import Diagnostics, Location, did_you_mean, display_path
from .models import Paper, Topic, TopicTag
from .textnorm import CLAUSE_BREAK, alternation, clause_text, normalise
from .workers import Forked, SharedCursor, can_fork
from .yamlio import Node, load_yaml

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_T = TypeVar("_T")  # what the work alongside topic scoring returns (see assign_topics)

ROOT_KEYS = {"settings": "mapping", "topics": "list"}
SETTINGS_KEYS = {
    "threshold": "number > 0",
    "max_per_paper": "whole number from 1 to 20",
    "title_weight": "number >= 0",
    "abstract_weight": "number >= 0",
    "abstract_repeat_bonus": "number >= 0",
    "abstract_repeat_cap": "number >= 0",
}
TOPIC_KEYS = {
    "id": "slug",
    "name": "text",
    "description": "text",
    "parent": "topic id",
    "aliases": "list of texts",
    "match": "mapping",
    "inherit_parent": "true or false",
    "intentional_small": "true or false",
    "fallback": "true or false",
}
MATCH_KEYS = {
    "phrases": "list of texts",
    "title_phrases": "list of texts",
    "patterns": "list of regular expressions",
    "exclude": "list of texts",
    "require": "list of texts",
}
MAX_PER_PAPER_LIMIT = 20
# Kinds of term: evidence counts towards the score, the other two only gate the topic.
_EVIDENCE = ("phrase", "title", "pattern")


@dataclass
class ManualTopics:
    """Topics added to or removed from one paper by hand (``overrides.yaml``: ``topics: {add, remove}``)."""

    add: list[str]
    remove: list[str]
    location: Location | None = None


@dataclass
class TopicRule:
    """How one topic is matched: its ``match`` block (and aliases) as normalised word tuples."""

    phrases: list[tuple[str, ...]] = field(default_factory=list)  # title and abstract
    title_phrases: list[tuple[str, ...]] = field(default_factory=list)
    patterns: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[tuple[str, ...]] = field(default_factory=list)
    require: list[tuple[str, ...]] = field(default_factory=list)
    inherit_parent: bool = True
    broken: bool = False  # the match block had errors (already reported)
    labels: dict[tuple[str, ...], str] = field(default_factory=dict)  # how a phrase is shown as evidence


# A term of a phrase as the scanner sees it: (term number, topic id, counts as evidence).
_TermInfo = tuple[int, str, bool]


@dataclass(frozen=True)
class _Term:
    # One phrase or pattern of one topic: the scanner counts terms, the scorer sums them per topic.
    topic: str
    kind: str  # "phrase", "title", "pattern", "exclude" or "require"
    label: str = ""  # how a phrase is shown as evidence


@dataclass
class Taxonomy:
    """The topics of ``topics.yaml`` (file order), their rules and the scoring settings."""

    topics: list[Topic]
    threshold: float = 2.0
    max_per_paper: int = 4
    title_weight: float = 3.0
    abstract_weight: float = 1.0
    abstract_repeat_bonus: float = 0.5
    abstract_repeat_cap: float = 1.0
    rules: dict[str, TopicRule] = field(default_factory=dict)
    fallback: str | None = None

    def __post_init__(self) -> None:
        self._by_id = {t.id: t for t in self.topics}
        self._inherited = {t.id: self._walk_inherited(t.id) for t in self.topics}
        self._compile()

    def get(self, topic_id: str) -> Topic | None:
        """The topic with this id, or None."""
        return self._by_id.get(topic_id)

    def children(self, topic_id: str) -> list[Topic]:
        """Direct sub-topics of *topic_id*, in file order."""
        return [t for t in self.topics if t.parent == topic_id]

    def ancestors(self, topic_id: str) -> list[str]:
        """Parent, grandparent, ... of *topic_id*, nearest first."""
        out: list[str] = []
        topic = self.get(topic_id)
        while topic is not None and topic.parent and topic.parent not in out and topic.parent != topic_id:
            out.append(topic.parent)
            topic = self.get(topic.parent)
        return out

    def inherited(self, topic_id: str) -> list[str]:
        """The ancestors a paper gets along with *topic_id*: up the chain while ``inherit_parent`` holds."""
        return self._inherited.get(topic_id, [])

    def is_leaf(self, topic_id: str) -> bool:
        """True when no topic has *topic_id* as its parent."""
        return not any(t.parent == topic_id for t in self.topics)

    def is_weak(self, tag: TopicTag) -> bool:
        """True for a tag given by rule although its score is below the threshold: the best
        guess for a paper that no topic matched well."""
        return not tag.manual and tag.score < self.threshold

    def score(self, title: str, abstract: str) -> dict[str, tuple[float, list[str]]]:
        """Score a raw *title* and *abstract* against every topic.

        Returns ``{topic id: (score, evidence)}`` for topics with any evidence, where evidence
        reads like ``title: "model merging"`` or ``abstract: "task vector" ×3``.  Topics whose
        ``exclude`` phrases occur, or none of whose ``require`` phrases occur, are left out."""
        return self._score_normalised(clause_text(title), clause_text(abstract))

    # -- matching internals

    def _walk_inherited(self, topic_id: str) -> list[str]:
        out: list[str] = []
        current = topic_id
        for parent in self.ancestors(topic_id):
            rule = self.rules.get(current)
            if rule is None or not rule.inherit_parent:
                break
            out.append(parent)
            current = parent
        return out

    def _compile(self) -> None:
        # All phrases of all topics go into one regular expression, so a paper's text is
        # scanned once for every topic together instead of once per phrase.
        self._terms: list[_Term] = []
        self._patterns: list[tuple[int, re.Pattern[str]]] = []
        by_words: dict[tuple[str, ...], list[int]] = {}
        for topic in self.topics:
            rule = self.rules.get(topic.id)
            if rule is None:
                continue
            kinds = (
                ("phrase", rule.phrases),
                ("title", rule.title_phrases),
                ("exclude", rule.exclude),
                ("require", rule.require),
            )
            for kind, phrases in kinds:
                for words in phrases:
                    label = rule.labels.get(words, " ".join(words))
                    by_words.setdefault(words, []).append(self._add_term(topic.id, kind, label))
            for pattern in rule.patterns:
                self._patterns.append((self._add_term(topic.id, "pattern"), pattern))
        # Per phrase (words joined by spaces): its length and the terms it stands for, then
        # the same for each shorter phrase its first words make, longest first, as in the
        # text each of those occurs where the phrase does.
        infos = {
            " ".join(words): [(t, self._terms[t].topic, self._terms[t].kind in _EVIDENCE) for t in term_ids]
            for words, term_ids in by_words.items()
        }
        self._chains: dict[str, list[tuple[int, list[_TermInfo]]]] = {}
        for words in by_words:
            heads = (" ".join(words[:n]) for n in range(len(words), 0, -1))
            self._chains[" ".join(words)] = [(len(head), infos[head]) for head in heads if head in infos]
        # At each word of the padded text where a phrase starts, the longest phrase there
        # (the shorter ones are the rest of its chain).  The lookahead lets phrases overlap.
        self._phrase_re = re.compile(" (?=(" + alternation(self._chains) + ") )") if self._chains else None
        self._topics = [term.topic for term in self._terms]
        self._evidence = {t for t, term in enumerate(self._terms) if term.kind in _EVIDENCE}
        self._excluding = {t for t, term in enumerate(self._terms) if term.kind == "exclude"}
        self._required = {t for t, term in enumerate(self._terms) if term.kind == "require"}
        self._requiring = {tid for tid, rule in self.rules.items() if rule.require}

    def _add_term(self, topic_id: str, kind: str, label: str = "") -> int:
        self._terms.append(_Term(topic_id, kind, label))
        return len(self._terms) - 1

    def _count(self, text: str) -> tuple[dict[int, int], dict[int, str]]:
        """How often each term occurs in normalised *text*, and the words of a pattern's first match.

        Phrases are found in one left-to-right scan; a phrase that lies inside a longer
        phrase of the same topic already found is not counted again.  Patterns are searched
        separately and always count."""
        counts: dict[int, int] = {}
        # Per topic: where (a character offset) its last counted evidence ends.  Phrases end
        # at word ends, so offsets compare as word numbers would.
        reach: dict[str, int] = {}
        if self._phrase_re is not None:
            chains = self._chains
            for m in self._phrase_re.finditer(f" {text} "):
                start = m.end()
                for length, info in chains[m.group(1)]:
                    end = start + length
                    for t, topic, is_evidence in info:
                        if is_evidence:
                            if end <= reach.get(topic, 0):
                                continue
                            reach[topic] = end
                        counts[t] = counts.get(t, 0) + 1
        matched: dict[int, str] = {}
        for t, pattern in self._patterns:
            for m in pattern.finditer(text):
                counts[t] = counts.get(t, 0) + 1
                if t not in matched:  # shown as evidence: without clause marks
                    matched[t] = " ".join(w for w in m.group(0).split(" ") if w != CLAUSE_BREAK)
        return counts, matched

    def _score_normalised(self, title: str, abstract: str) -> dict[str, tuple[float, list[str]]]:
        in_title, title_matched = self._count(title)
        in_abstract, abstract_matched = self._count(abstract)
        present = in_title.keys() | in_abstract.keys()
        topics = self._topics
        gated = {topics[t] for t in present & self._excluding}
        if self._requiring:
            gated |= self._requiring - {topics[t] for t in present & self._required}
        scores: dict[str, float] = {}
        evidence: dict[str, list[str]] = {}
        # Term numbers follow the file (topic, then phrase order), so evidence reads like the rules.
        for t in sorted(present & self._evidence):
            term = self._terms[t]
            topic = term.topic
            if topic in gated:
                continue
            points = 0.0
            found: list[str] = []
            if t in in_title:
                points += self.title_weight
                found.append(f'title: "{title_matched.get(t, term.label)}"')
            n = in_abstract.get(t, 0) if term.kind != "title" else 0
            if n:
                points += self.abstract_weight + min(self.abstract_repeat_bonus * (n - 1), self.abstract_repeat_cap)
                found.append(f'abstract: "{abstract_matched.get(t, term.label)}"' + (f" ×{n}" if n > 1 else ""))
            if found:
                scores[topic] = scores.get(topic, 0.0) + points
                evidence.setdefault(topic, []).extend(found)
        return {tid: (round(points, 3), evidence[tid]) for tid, points in scores.items()}


# ---------------------------------------------------------------------------- loading


def load_taxonomy(path: Path, diagnostics: Diagnostics, *, text: str | None = None) -> Taxonomy:
    """Read and validate ``topics.yaml`` (or *text* as if it were that file).

    Every mistake goes to *diagnostics* with ``file:line:col``, all of them in one run, and a
    usable (possibly partial) taxonomy is returned anyway: the caller stops the build once
    every content file has been checked, so the maintainer can fix everything at once."""
    path = Path(path)
    name = display_path(path)
    if text is None and not path.is_file():
        diagnostics.error("topics file not found", Location(name))
        return Taxonomy(topics=[])
    errors_before = len(diagnostics.errors)
    doc = load_yaml(path, diagnostics, text=text)
    if doc.root is None:
        if len(diagnostics.errors) == errors_before:  # empty, rather than unreadable
            diagnostics.error("the file is empty; it needs a 'topics' list", Location(name))
        return Taxonomy(topics=[])
    root = doc.root.mapping("topics.yaml", ROOT_KEYS)
    if root is None:
        return Taxonomy(topics=[])
    settings = _read_settings(root.get("settings"), diagnostics)
    if "topics" not in root:
        diagnostics.error("topics.yaml needs a 'topics' list", doc.root.loc)
        return Taxonomy(topics=[], **settings)
    topics: list[Topic] = []
    rules: dict[str, TopicRule] = {}
    parent_locs: dict[str, Location] = {}
    fallback: Topic | None = None
    for number, node in enumerate(root["topics"].sequence("topics") or [], 1):
        parsed = _read_topic(node, number, diagnostics)
        if parsed is None:
            continue
        topic, rule, parent_loc, is_fallback = parsed
        first = next((t for t in topics if t.id == topic.id), None)
        if first is not None:
            line = first.location.line if first.location else 0
            diagnostics.error(f"duplicate topic id '{topic.id}' (first at line {line})", topic.location)
            continue
        topics.append(topic)
        rules[topic.id] = rule
        if parent_loc is not None:
            parent_locs[topic.id] = parent_loc
        if is_fallback and fallback is not None:
            line = fallback.location.line if fallback.location else 0
            diagnostics.error(
                f"only one topic can be the fallback; '{fallback.id}' already is (line {line})", topic.location
            )
        elif is_fallback:
            fallback = topic
    _check_parents(topics, parent_locs, diagnostics)
    for topic in topics:
        rule = rules[topic.id]
        if not (rule.phrases or rule.title_phrases or rule.patterns or rule.broken) and topic is not fallback:
            if not any(t.parent == topic.id for t in topics):
                diagnostics.warning(
                    f"topic '{topic.id}' has no phrases, patterns or sub-topics; only hand edits can assign it",
                    topic.location,
                )
    return Taxonomy(topics=topics, rules=rules, fallback=fallback.id if fallback else None, **settings)


def _read_settings(node: Node | None, diagnostics: Diagnostics) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if node is None or node.is_null:
        return out
    for key, value in (node.mapping("settings", SETTINGS_KEYS) or {}).items():
        what = f"settings.{key}"
        if key == "max_per_paper":
            n = value.integer(what, minimum=1)
            if n is not None and n > MAX_PER_PAPER_LIMIT:
                diagnostics.error(f"{what} must be at most {MAX_PER_PAPER_LIMIT}, not {n}", value.loc)
            elif n is not None:
                out[key] = n
            continue
        x = value.number(what)
        if x is None:
            continue
        if key == "threshold" and x <= 0:
            diagnostics.error(f"{what} must be greater than 0, not {value.value}", value.loc)
        elif x < 0:
            diagnostics.error(f"{what} must not be negative, not {value.value}", value.loc)
        else:
            out[key] = x
    return out


def _read_topic(
    node: Node, number: int, diagnostics: Diagnostics
) -> tuple[Topic, TopicRule, Location | None, bool] | None:
    # Messages name the topic by its id when it has one, else by its position in the list.
    label = f"topic #{number}"
    for key, value in node.items:
        if key.value == "id" and value.kind == "scalar" and value.value.strip():
            label = f"topic '{value.value}'"
    fields = node.mapping(label, TOPIC_KEYS)
    if fields is None:
        return None
    missing = [key for key in ("id", "name", "description") if key not in fields]
    for key in missing:
        diagnostics.error(f"{label} needs {'an' if key == 'id' else 'a'} {key}", node.loc)
    tid = fields["id"].text(f"{label}: id") if "id" in fields else None
    if tid is not None and not _SLUG.match(tid):
        suggestion = re.sub(r"[^a-z0-9]+", "-", tid.lower()).strip("-")
        hint = f", e.g. '{suggestion}'" if suggestion else ""
        message = f"topic id '{tid}' must be a slug (lowercase letters, digits and hyphens){hint}"
        diagnostics.error(message, fields["id"].loc)
        tid = None
    name = fields["name"].text(f"{label}: name") if "name" in fields else None
    description = fields["description"].text(f"{label}: description") if "description" in fields else None
    parent = parent_loc = None
    if "parent" in fields and not fields["parent"].is_null:
        parent = fields["parent"].text(f"{label}: parent")
        parent_loc = fields["parent"].loc
    aliases: list[str] = []
    if "aliases" in fields and not fields["aliases"].is_null:
        aliases = fields["aliases"].text_list(f"{label}: aliases") or []
    flags = {
        key: fields[key].boolean(f"{label}: {key}")
        for key in ("inherit_parent", "intentional_small", "fallback")
        if key in fields
    }
    rule = TopicRule(inherit_parent=flags.get("inherit_parent") is not False)
    if flags.get("inherit_parent") is True and parent is None:
        diagnostics.error(f"{label}: inherit_parent needs a parent", fields["inherit_parent"].loc)
    errors_before = len(diagnostics.errors)
    _read_match(fields.get("match"), aliases, label, rule, diagnostics)
    if missing or tid is None or name is None or description is None:
        return None
    rule.broken = len(diagnostics.errors) > errors_before
    topic = Topic(
        id=tid,
        name=name.strip(),
        description=" ".join(description.split()),
        parent=parent.strip() if parent else None,
        aliases=aliases,
        intentional_small=bool(flags.get("intentional_small")),
        location=node.loc,
    )
    return topic, rule, parent_loc, bool(flags.get("fallback"))


def _read_match(
    node: Node | None, aliases: list[str], label: str, rule: TopicRule, diagnostics: Diagnostics
) -> None:
    parts: dict[str, Node] = {}
    if node is not None and not node.is_null:
        parts = node.mapping(f"{label}: match", MATCH_KEYS) or {}
    # Two spellings that normalise alike would count the same evidence twice.
    seen: dict[tuple[str, ...], str] = {}
    targets = {
        "phrases": rule.phrases,
        "title_phrases": rule.title_phrases,
        "exclude": rule.exclude,
        "require": rule.require,
    }
    for key, target in targets.items():
        if key not in parts:
            continue
        for item in parts[key].sequence(f"{label}: match.{key}") or []:
            text = item.text(f"each item of {label}: match.{key}")
            if text is None:
                continue
            words = tuple(normalise(text).split())
            if not words:
                diagnostics.error(f"{label}: '{text}' in match.{key} has no words to match", item.loc)
                continue
            if key in ("phrases", "title_phrases"):
                if words in seen:
                    diagnostics.warning(f"{label}: '{text}' matches the same words as '{seen[words]}'", item.loc)
                    continue
                seen[words] = text
                rule.labels[words] = _label(text, words)
            target.append(words)
    for alias in aliases:
        words = tuple(normalise(alias).split())
        if words and words not in seen:
            seen[words] = alias
            rule.phrases.append(words)
            rule.labels[words] = _label(alias, words)
    if "patterns" in parts:
        for item in parts["patterns"].sequence(f"{label}: match.patterns") or []:
            text = item.text(f"each item of {label}: match.patterns")
            if text is None:
                continue
            try:
                rule.patterns.append(re.compile(text))
            except re.error as exc:
                diagnostics.error(f"{label}: invalid pattern '{text}': {exc}", item.loc)


def _label(written: str, words: tuple[str, ...]) -> str:
    # Evidence shows a phrase as written ("self-supervised"), except an abbreviation, which
    # shows what it stands for: a title saying "Multi-Task Learning" matched "multitask
    # learning", not the "MTL" of the rules.
    return written if len(re.findall(r"[^\W_]+", written)) >= len(words) else " ".join(words)


def _check_parents(topics: list[Topic], parent_locs: dict[str, Location], diagnostics: Diagnostics) -> None:
    by_id = {t.id: t for t in topics}
    for topic in topics:
        if topic.parent is not None and topic.parent not in by_id:
            diagnostics.error(
                f"unknown parent '{topic.parent}' for topic '{topic.id}'{did_you_mean(topic.parent, by_id)}",
                parent_locs.get(topic.id, topic.location),
            )
            topic.parent = None  # keep the returned taxonomy walkable
    # A cycle is reported at its first topic in the file and cut there, so that nothing
    # walking up the hierarchy later can loop.
    for topic in topics:
        chain = [topic.id]
        current = topic
        while current.parent is not None and current.parent not in chain:
            current = by_id[current.parent]
            chain.append(current.id)
        if current.parent == topic.id:
            cycle = " -> ".join(chain + [topic.id])
            diagnostics.error(f"parent cycle: {cycle}", parent_locs.get(topic.id, topic.location))
            topic.parent = None


# ---------------------------------------------------------------------------- assigning


def assign_topics(
    papers: list[Paper], taxonomy: Taxonomy, manual: dict[str, ManualTopics], diagnostics: Diagnostics,
    *, alongside: Callable[[list[range]], _T] | None = None,
) -> list[_T]:
    """Set ``paper.topics`` for every paper from the rules and the hand edits.

    Topics added by hand come first and are always kept; removed ones never appear, not even
    as a parent.  Then rule matches at or above the threshold, best first (ties by topic id),
    until ``max_per_paper`` places are taken; a parent brought in by a sub-topic
    (``inherit_parent``) takes no place of its own.  Every tag records why it was given.  A
    paper with no match above the threshold gets its best-scoring topic as a weak tag, or
    the fallback topic when nothing matched at all.  Unknown topic ids in the hand edits are
    errors at the edit's location.

    *alongside*, if given, is more work on the same papers that reads what scoring has
    just normalised (the features of related papers), worth doing here when a forked
    process shares the scoring: then each of the two calls it with the ranges of *papers*
    it scored, and what it returns comes back in the list this returns, this process's
    first.  Otherwise it is not called, and the list is empty."""
    known = {t.id for t in taxonomy.topics}
    for pid in sorted(manual):
        edit = manual[pid]
        for tid in edit.add + edit.remove:
            if tid not in known:
                hint = did_you_mean(tid, known)
                diagnostics.error(f"unknown topic '{tid}' in topics of '{pid}'{hint}", edit.location)
        for tid in sorted(set(edit.add) & set(edit.remove)):
            diagnostics.error(f"topic '{tid}' is both added and removed for '{pid}'", edit.location)
    tags, alongside_results = _rule_tags(papers, taxonomy, manual, known, diagnostics, alongside)
    for paper, paper_tags in zip(papers, tags):
        paper.topics = paper_tags
    return alongside_results


# Below this many papers a second process for half of the rule scores does not pay.
SPLIT_MIN_PAPERS = 2000


# Papers a process scores at a time when two share a long list.
PAPERS_PER_CLAIM = 100


def _rule_tags(
    papers: list[Paper], taxonomy: Taxonomy, manual: dict[str, ManualTopics], known: set[str],
    diagnostics: Diagnostics, alongside: Callable[[list[range]], _T] | None,
) -> tuple[list[list[TopicTag]], list[_T]]:
    """The topic tags of each paper (scored by the rules, then chosen with the hand edits),
    and what *alongside* returned in each process (see :func:`assign_topics`).  For a long
    list a forked process, where that is safe, shares the work, a few papers at a time;
    warnings keep the order of the papers."""

    def tag(part: list[Paper], found: Diagnostics) -> list[list[TopicTag]]:
        return [
            _choose(p, taxonomy._score_normalised(clause_text(p.title), clause_text(p.abstract)), taxonomy,
                    manual.get(p.id), known, found)
            for p in part
        ]

    if len(papers) < SPLIT_MIN_PAPERS or not can_fork():
        return tag(papers, diagnostics), []
    cursor = SharedCursor(len(papers), PAPERS_PER_CLAIM)

    def share() -> tuple[dict[int, tuple[list[list[TopicTag]], list]], list[_T]]:
        done = {}
        for claim in cursor.claims():
            found = Diagnostics()
            done[claim.start] = (tag(papers[claim.start : claim.stop], found), found.items)
        ranges = [range(start, start + len(part)) for start, (part, _) in done.items()]
        return done, [alongside(ranges)] if alongside else []

    helper = Forked(share)
    done, mine = share()
    theirs, their_results = helper.result()
    done.update(theirs)
    tags: list[list[TopicTag]] = []
    for start in sorted(done):
        part, items = done[start]
        tags += part
        diagnostics.items.extend(items)
    return tags, mine + their_results


def _choose(
    paper: Paper,
    scores: dict[str, tuple[float, list[str]]],
    taxonomy: Taxonomy,
    edit: ManualTopics | None,
    known: set[str],
    diagnostics: Diagnostics,
) -> list[TopicTag]:
    removed = set(edit.remove) if edit else set()
    added = [t for t in dict.fromkeys(edit.add if edit else []) if t in known and t not in removed]
    ranked = sorted(
        ((tid, score, why) for tid, (score, why) in scores.items() if tid not in removed and tid not in added),
        key=lambda item: (-item[1], item[0]),
    )
    tags: dict[str, TopicTag] = {}
    for tid in added:
        score, why = scores.get(tid, (0.0, []))
        tags[tid] = TopicTag(tid, score, manual=True, matched=list(why))
    for tid, score, why in ranked:
        # A place is surely free while fewer topics than places are taken.
        if score >= taxonomy.threshold and (
            len(tags) < taxonomy.max_per_paper or _places(list(tags) + [tid], taxonomy) <= taxonomy.max_per_paper
        ):
            tags[tid] = TopicTag(tid, score, matched=list(why))
    if not tags:
        if ranked:
            tid, score, why = ranked[0]  # below the threshold: is_weak() tells
            tags[tid] = TopicTag(tid, score, matched=list(why))
        elif taxonomy.fallback and taxonomy.fallback not in removed:
            tags[taxonomy.fallback] = TopicTag(taxonomy.fallback, 0.0, matched=["nothing; general fallback topic"])
        else:
            diagnostics.warning(f"paper '{paper.id}' matches no topic and the taxonomy has no fallback topic")
    for tid, tag in list(tags.items()):
        for parent in taxonomy.inherited(tid):
            if parent in removed:
                break
            if parent not in tags:
                tags[parent] = TopicTag(parent, tag.score, inherited_from=tid)
    return sorted(tags.values(), key=lambda t: (not t.manual, -t.score, t.topic))


def _places(chosen: list[str], taxonomy: Taxonomy) -> int:
    # A chosen topic that a chosen sub-topic brings in anyway takes no place of its own.
    implied = {parent for tid in chosen for parent in taxonomy.inherited(tid)}
    return sum(1 for tid in chosen if tid not in implied)


# ---------------------------------------------------------------------------- counting


def topic_counts(papers: list[Paper]) -> dict[str, int]:
    """Visible (not hidden) papers per topic id, in id order."""
    counts = Counter(tag.topic for p in papers if not p.hidden for tag in p.topics)
    return {tid: counts[tid] for tid in sorted(counts)}


def cooccurring(papers: list[Paper], topic_id: str, limit: int = 8) -> list[tuple[str, int]]:
    """The topics that most often share a visible paper with *topic_id*, with how many
    papers, most first and ties by id.  A parent that a paper carries only because of
    *topic_id* itself is left out: it would co-occur every time and say nothing."""
    counts: Counter[str] = Counter()
    for p in papers:
        if p.hidden or topic_id not in p.topic_ids:
            continue
        for tag in p.topics:
            if tag.topic != topic_id and tag.inherited_from != topic_id:
                counts[tag.topic] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


# ---------------------------------------------------------------------------- report

# Words that say nothing about a topic; left out of the title-term suggestions.
_STOP = frozenset(
    """a all an and are as at be beyond by can do does for from how in into is it its more
    new not novel of on one or our over the their through to toward towards two under using
    via we what when where which while who why with without you your""".split()
)
LEAF_SHARE_LIMIT = 0.25


@dataclass
class TopicReport:
    """How well the taxonomy fits the papers: what a maintainer needs to tune ``topics.yaml``."""

    paper_count: int
    threshold: float
    sizes: list[tuple[str, int, int]]  # (topic id, depth, papers), parents before children
    weak: list[tuple[str, str, float, list[str]]]  # (paper id, best topic, score, evidence)
    fallback: list[str]  # papers that matched nothing and got the fallback topic
    small: list[tuple[str, int]]  # under 2 papers and not intentional_small
    oversized: list[tuple[str, int]]  # leaf topics over LEAF_SHARE_LIMIT of the papers
    suggestions: list[tuple[str, int]]  # (title term, papers) among weakly matched papers

    def format(self) -> str:
        """The report as plain text, one section per finding."""
        n = self.paper_count
        lines = [f"{len(self.sizes)} topics, {n} papers, threshold {self.threshold:g}", "", "Papers per topic:"]
        for tid, depth, count in self.sizes:
            share = f"{100 * count / n:.1f}%" if n else "-"
            lines.append(f"{'  ' * (depth + 1)}{tid}  {count}  {share}")
        weak = [f"{pid} -> {tid} (score {score:g}: {', '.join(why)})" for pid, tid, score, why in self.weak]
        sections = [
            ("Papers with only a weak match", weak),
            ("Papers that matched nothing (given the fallback topic)", self.fallback),
            ("Topics with fewer than 2 papers", [f"{tid}  {count}" for tid, count in self.small]),
            (f"Leaf topics with more than {LEAF_SHARE_LIMIT:.0%} of the papers", [f"{t}  {c}" for t, c in self.oversized]),
            ("Frequent title terms among weakly matched papers", [f"{t}  {c}" for t, c in self.suggestions]),
        ]
        for heading, items in sections:
            lines += ["", f"{heading}: {len(items) or 'none'}"]
            lines += [f"  {item}" for item in items]
        return "\n".join(lines) + "\n"


def topic_report(papers: list[Paper], taxonomy: Taxonomy) -> TopicReport:
    """Summarise how *taxonomy* fits *papers* (hidden ones ignored): topic sizes in hierarchy
    order, papers with only a weak or fallback match, topics that are too small or (leaves)
    too large, and frequent title terms of the poorly matched papers as ideas for new topics."""
    visible = [p for p in papers if not p.hidden]
    counts = topic_counts(visible)
    weak: list[tuple[str, str, float, list[str]]] = []
    fallback: list[str] = []
    poorly: list[Paper] = []
    for p in sorted(visible, key=lambda p: p.id):
        direct = [t for t in p.topics if t.inherited_from is None]
        if any(t.manual or not taxonomy.is_weak(t) for t in direct):
            continue
        poorly.append(p)
        if direct and not (direct[0].topic == taxonomy.fallback and direct[0].score == 0):
            weak.append((p.id, direct[0].topic, direct[0].score, direct[0].matched))
        else:
            fallback.append(p.id)
    limit = LEAF_SHARE_LIMIT * len(visible)
    sized = [(t, counts.get(t.id, 0)) for t in taxonomy.topics]
    return TopicReport(
        paper_count=len(visible),
        threshold=taxonomy.threshold,
        sizes=[(t.id, depth, counts.get(t.id, 0)) for t, depth in _tree(taxonomy)],
        weak=weak,
        fallback=fallback,
        small=[(t.id, n) for t, n in sized if n < 2 and not t.intentional_small],
        oversized=[(t.id, n) for t, n in sized if n > limit and taxonomy.is_leaf(t.id)],
        suggestions=title_terms(poorly),
    )


def title_terms(papers: list[Paper], limit: int = 15) -> list[tuple[str, int]]:
    """Normalised title words and two-word phrases that at least two of *papers* share, with
    how many papers use each; most first, ties alphabetical.  Stop words and numbers are
    left out and never joined across ("graph for molecule" gives no "graph molecule")."""
    counts: Counter[str] = Counter()
    for p in papers:
        words = normalise(p.title).split()
        terms = {w for w in words if _is_term(w)}
        terms |= {f"{a} {b}" for a, b in zip(words, words[1:]) if _is_term(a) and _is_term(b)}
        counts.update(terms)
    ranked = sorted(((term, c) for term, c in counts.items() if c >= 2), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def _is_term(word: str) -> bool:
    return word not in _STOP and not word.isdigit()


def _tree(taxonomy: Taxonomy) -> list[tuple[Topic, int]]:
    # Parents before their children; siblings in file order.
    out: list[tuple[Topic, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for t in taxonomy.topics:
            if t.parent == parent:
                out.append((t, depth))
                walk(t.id, depth + 1)

    walk(None, 0)
    return out
