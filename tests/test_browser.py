"""What a reader does on the built site, checked in headless Chromium.

Search, topic chips, related papers, the dark-mode toggle, phone layouts and screenshots for
a person to look at (``test-output/screenshots/``).  Needs Debian's Chromium; without it the
tests are skipped (under ``CI=true`` they fail).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .browser import (  # noqa: F401 - fixtures are used by name
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Tab,
    assert_clean,
    browser,
    contrast,
    open_tab,
    site_url,
)

pytestmark = pytest.mark.browser

SCALEARN = "scalearn-simple-and-highly-parameter-efficient-task-transfer-by-learning-to-scale"
SCALEARN_TITLE = "ScaLearn: Simple and Highly Parameter-Efficient Task Transfer by Learning to Scale"


@pytest.fixture(scope="module")
def data(built_site: Path) -> dict:
    return json.loads((built_site / "papers.json").read_text(encoding="utf-8"))


def paper(data: dict, pid: str) -> dict:
    return next(p for p in data["papers"] if p["id"] == pid)


def h1(tab: Tab) -> str:
    return tab.page.locator("article h1").first.inner_text().replace("¶", "").strip()


RESULTS = ".md-search-result__list > .md-search-result__item > a.md-search-result__link"


def search(tab: Tab, query: str) -> list[str]:
    """Type *query* into the theme's search box; the site paths of the result pages, best first."""
    page = tab.page
    box = page.locator("input.md-search__input")
    if not box.is_visible():
        page.locator("label.md-search__icon").first.click()
    if box.input_value():
        box.fill("")
        box.press("End")
        page.wait_for_function(f"() => document.querySelectorAll('{RESULTS}').length === 0")
    box.fill(query)
    box.press("End")  # the theme reads the query on key events
    page.wait_for_function(
        """() => {
            const meta = document.querySelector('.md-search-result__meta');
            return meta && /matching/i.test(meta.textContent);
        }"""
    )
    # The theme may still be replacing the results of an earlier keystroke: read them until
    # two reads a moment apart agree.
    hrefs, previous = page.eval_on_selector_all(RESULTS, "els => els.map(a => a.href)"), None
    for _ in range(50):
        if hrefs == previous:
            break
        page.wait_for_timeout(100)
        previous, hrefs = hrefs, page.eval_on_selector_all(RESULTS, "els => els.map(a => a.href)")
    out = []
    for href in hrefs:
        path = href.split("#", 1)[0].split("?", 1)[0]  # results carry ?h=<terms> for highlighting
        assert path.startswith(tab.base), href
        out.append(path[len(tab.base):])
    return out


def open_result(tab: Tab, path: str) -> None:
    """Click the search result for the page at *path* and wait for that page."""
    tab.page.locator(f"{RESULTS}[href^='{tab.url(path)}']").first.click()
    tab.page.wait_for_url(lambda url: url.split("?", 1)[0].split("#", 1)[0] == tab.url(path))


def test_home_loads_without_errors(open_tab):
    tab = open_tab()
    tab.page.goto(tab.url(), wait_until="networkidle")
    assert tab.page.locator("article h1").count() == 1
    assert tab.page.locator("a.rl-tile").count() > 0, "the topic grid of the home page is not rendered"
    # The search worker loads its index when the box is used; its failures are errors too.
    tab.page.locator("input.md-search__input").focus()
    tab.page.wait_for_function(
        "() => !/initializ/i.test(document.querySelector('.md-search-result__meta').textContent)")
    assert_clean(tab)


def test_search_by_a_title_word_opens_the_paper(open_tab):
    tab = open_tab()
    tab.goto()
    tab.page.keyboard.press("/")  # the home page tells readers about this shortcut
    assert tab.page.evaluate("() => document.activeElement.matches('input.md-search__input')")
    results = search(tab, "ScaLearn")
    # The paper's own page comes first; list rows elsewhere are kept out of the index.
    assert results[0] == f"papers/{SCALEARN}/", results[:5]
    open_result(tab, f"papers/{SCALEARN}/")
    assert h1(tab) == SCALEARN_TITLE
    assert_clean(tab)


def test_a_pasted_title_puts_that_paper_first(open_tab, data):
    tab = open_tab()
    tab.goto("timeline/")
    for pid in (SCALEARN, "efficient-controllable-multi-task-architectures"):
        want = paper(data, pid)
        results = search(tab, want["title"])
        assert results[:1] == [want["url"]], (want["title"], results[:5])


@pytest.mark.xfail(raises=AssertionError, strict=False, reason=(
    "Material 9.8 search: a query word with a hyphen followed by a colon ('Uni-Perceiver:') is parsed "
    "as a lunr field and the whole query matches nothing; not fixable in this project's templates"))
def test_a_pasted_title_with_a_hyphenated_first_word(open_tab, data):
    tab = open_tab()
    tab.goto()
    want = next(p for p in data["papers"] if re.match(r"^[\w]+-[\w]+:", p["title"]))
    assert want["url"] in search(tab, want["title"])[:3], want["title"]


def test_search_by_topic_name_finds_papers_with_that_topic(open_tab, data):
    tab = open_tab()
    tab.goto()
    topic = max(data["topics"], key=lambda t: (t["count"], t["id"]))
    results = search(tab, topic["name"])
    with_topic = [p["url"] for p in data["papers"] if topic["id"] in p["topics"]]
    assert set(results[:5]) & set(with_topic), (topic["name"], results[:10])


def test_search_by_an_abstract_phrase(open_tab):
    tab = open_tab()
    tab.goto()
    results = search(tab, "GLUE, SuperGLUE, and HumSet")  # words of the ScaLearn abstract
    assert results[:1] == [f"papers/{SCALEARN}/"], results[:5]
    open_result(tab, f"papers/{SCALEARN}/")
    assert h1(tab) == SCALEARN_TITLE
    assert_clean(tab)


def test_topic_chip_and_related_link(open_tab, data):
    tab = open_tab()
    tab.goto(f"papers/{SCALEARN}/")
    chip = tab.page.locator("a.rl-chip").first
    name = chip.inner_text().strip()
    topic = next(t for t in data["topics"] if t["name"] == name)
    assert topic["id"] in paper(data, SCALEARN)["topics"]
    chip.click()
    tab.page.wait_for_url(tab.url(topic["url"]))
    assert h1(tab) == topic["name"]
    listed = tab.page.locator(f"article a[href$='papers/{SCALEARN}/']:not(.rl-node)")
    assert listed.count() >= 1, f"topic page {topic['url']} does not list {SCALEARN}"

    listed.first.click()
    tab.page.wait_for_url(tab.url(f"papers/{SCALEARN}/"))
    related = tab.page.locator("h2#related ~ :is(ul, ol) li a").first
    title = related.inner_text().strip()
    target = paper(data, SCALEARN)["related"][0]["id"]
    related.click()
    tab.page.wait_for_url(tab.url(f"papers/{target}/"))
    assert h1(tab) == title == paper(data, target)["title"]
    assert_clean(tab)


def palette_toggle(tab: Tab):
    return tab.page.locator("form[data-md-component=palette] label.md-header__button:visible")


def scheme(tab: Tab) -> str:
    return tab.page.locator("body").get_attribute("data-md-color-scheme")


def test_dark_mode_toggle_survives_navigation(open_tab):
    tab = open_tab(scheme="light")
    tab.goto()
    assert scheme(tab) == "default"
    palette_toggle(tab).click()
    assert scheme(tab) == "slate"
    # Instant navigation swaps the content without a reload...
    tab.page.locator(".md-tabs a.md-tabs__link", has_text="Topics").click()
    tab.page.wait_for_url(tab.url("topics/"))
    assert h1(tab) == "Topics"
    assert scheme(tab) == "slate"
    # ...and a full page load keeps the choice too.
    tab.goto(f"papers/{SCALEARN}/")
    assert scheme(tab) == "slate"
    palette_toggle(tab).click()
    assert scheme(tab) == "default"
    assert_clean(tab)


def test_dark_preference_of_the_system_is_followed(open_tab):
    tab = open_tab(scheme="dark")
    tab.goto()
    assert scheme(tab) == "slate"


# Text that must stay readable (WCAG AA, 4.5:1) in both colour schemes: the reading list's
# own elements and the theme's around them.
SMALL_TEXT = ["article p", "article li > a", "article p > a:not(.md-button):not(.rl-chip)", ".rl-meta",
              ".rl-row-meta", ".rl-why", ".rl-score", ".rl-count", "a.rl-chip", ".rl-status", ".rl-noted",
              ".md-button:not(.md-button--primary)", ".md-button--primary", "a.rl-tile", ".rl-bibtex code",
              "article figcaption", ".md-nav__link", ".md-tabs__link", ".md-header__topic"]
LARGE_TEXT = ["article h1", "article h2"]  # 3:1 is enough from 24px (or 18.7px bold)


@pytest.mark.parametrize("colours", ["light", "dark"])
def test_text_contrast(open_tab, data, colours):
    tab = open_tab(scheme=colours)
    topic = paper(data, SCALEARN)["topics"][0]
    faint = []
    seen = set()
    for path in ("", f"papers/{SCALEARN}/", f"topics/{topic}/"):
        tab.goto(path)
        for sel, (ratio, size) in contrast(tab, SMALL_TEXT + LARGE_TEXT).items():
            seen.add(sel)
            if ratio < (3.0 if sel in LARGE_TEXT else 4.5):
                faint.append(f"/{path} {sel}: {ratio}:1 at {size}")
    assert faint == [], f"too faint in the {colours} scheme:\n" + "\n".join(faint)
    assert {"a.rl-chip", ".rl-count", ".rl-meta", ".md-button--primary"} <= seen


def phone_pages(data: dict) -> list[str]:
    """Pages most likely to be too wide: long words and titles, big topics, tables."""
    long_word = max(data["papers"], key=lambda p: (max(map(len, p["title"].split())), p["id"]))
    long_title = max(data["papers"], key=lambda p: (len(p["title"]), p["id"]))
    biggest = max(data["topics"], key=lambda t: (t["count"], t["id"]))
    return ["", long_word["url"], long_title["url"], f"papers/{SCALEARN}/", biggest["url"], "topics/",
            "timeline/", "lists/", data["sources"][0]["url"], "map/", "about/"]


def test_no_horizontal_scrolling_on_a_phone(open_tab, built_site, data):
    tab = open_tab(viewport=PHONE)
    problems = []
    for path in phone_pages(data):
        if not (built_site / path / "index.html").is_file():
            continue
        tab.goto(path)
        width, inner = tab.no_horizontal_scroll()
        if width > inner:
            problems.append(f"/{path}: scrollWidth {width} > {inner}; sticking out: {tab.widest()}")
    assert problems == [], "\n".join(problems)
    assert_clean(tab)


def test_topic_feed_link_causes_no_404(open_tab, data):
    """Topic pages advertise their feed; the theme must not turn that into a failed request."""
    tab = open_tab()
    topic = max(data["topics"], key=lambda t: (t["count"], t["id"]))
    tab.page.goto(tab.url(topic["url"]), wait_until="networkidle")
    assert_clean(tab)
    if "sitemap-beside-feed" in tab.known:
        pytest.xfail(
            "needs: a decision on the topic feed <link>: Material fetches sitemap.xml beside every "
            "<link rel=\"alternate\"> (squidfunk/mkdocs-material#8576), a 404 beside topics/<id>/feed.xml. "
            "Either serve topic feeds from the site root, or write rel=\"alternate feed\" in "
            "overrides/main.html (feed readers that match rel exactly would miss it): "
            + tab.known["sitemap-beside-feed"][0])


def test_links_inside_svg_graphs_do_not_break_the_theme(open_tab, data):
    """The related-papers graph and the topic map link with SVG <a>; the theme's scripts must
    survive them, on a full load and on instant navigation, and a click on a node must open
    that paper."""
    tab = open_tab()
    tab.goto(f"papers/{SCALEARN}/")
    node = tab.page.locator("figure.rl-graph a.rl-node").first
    if node.count():
        node.click()
        tab.page.wait_for_url(lambda url: "/papers/" in url and SCALEARN not in url)
        assert h1(tab) != SCALEARN_TITLE
    topic = paper(data, SCALEARN)["topics"][0]
    tab.page.locator("a.md-tabs__link", has_text="Topics").click()
    tab.page.wait_for_url(tab.url("topics/"))
    tab.page.locator(f"article a[href$='{topic}/']").first.click()
    tab.page.wait_for_url(tab.url(f"topics/{topic}/"))
    tab.page.wait_for_load_state("networkidle")
    assert_clean(tab)
    if "svg-href" in tab.known:
        pytest.xfail("needs: xlink:href instead of href on <a> and <image> inside inline SVG "
                     "(site_templates/paper.md.j2 and the topic map); Material assigns "
                     "el.href = el.href on every [href] element, SVG elements only have a getter, so it "
                     "throws: " + tab.known["svg-href"][0])


def test_screenshots(open_tab, data):
    """Screenshots for a person to judge, in test-output/screenshots/."""
    topic = paper(data, SCALEARN)["topics"][0]
    # The paper page shows its neighbourhood graph, the topic page its minimap.
    pages = {"home": "", "paper": f"papers/{SCALEARN}/", "topic": f"topics/{topic}/", "map": "map/"}
    written = []
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for colours in ("light", "dark"):
            tab = open_tab(viewport=viewport, scheme=colours)
            for name, path in pages.items():
                tab.goto(path)
                assert scheme(tab) == ("slate" if colours == "dark" else "default")
                tab.page.evaluate("() => document.fonts.ready")
                written.append(tab.screenshot(f"{name}-{device}-{colours}"))
            assert_clean(tab)
            tab.page.context.close()
    assert len(written) == 16 and all(p.stat().st_size > 10_000 for p in written)
