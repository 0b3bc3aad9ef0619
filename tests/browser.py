"""Fixtures and helpers for the tests that drive the built site in headless Chromium.

The site is served from the session's ``built_site`` on 127.0.0.1 by a small threaded HTTP
server; one browser is started per test run and every test opens its own context (fresh
storage, its own viewport and colour-scheme preference).  Requests that would leave the
machine are answered locally with an empty response and recorded, so the tests run offline
and a page's dependence on third-party hosts stays visible.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT

BROWSER = os.environ.get("READINGLIST_BROWSER", "/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Hosts the theme may ask for that the tests answer locally: Material loads its text fonts
# from Google Fonts unless `theme.font` is false.  Anything else external is a finding.
KNOWN_EXTERNAL_HOSTS = {"fonts.googleapis.com", "fonts.gstatic.com"}

# Two known theme problems, each reported by its own test in test_browser.py and kept apart
# from other errors (``Tab.known``) so that every other test still checks what it is about:
KNOWN = {
    # Material takes every <link rel="alternate"> for a language version of the site and
    # fetches the sitemap.xml beside it (squidfunk/mkdocs-material#8576): beside a topic's
    # Atom feed that is a 404.
    "sitemap-beside-feed": re.compile(r"/topics/[^/]+/sitemap\.xml$"),
    # Material rewrites every [href]/[src] of a page to an absolute URL (instant navigation);
    # on an SVG <a href> or <image href> the property only has a getter and the assignment
    # throws, which stops the rewrite half-way.
    "svg-href": re.compile(r"Cannot set property href of #<SVG\w+Element> which has only a getter"),
}


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the built site without logging every request to stderr."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Base URL (ending in ``/``) of the built site, served on 127.0.0.1 for the session."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _browser_path() -> str | None:
    if os.path.sep in BROWSER:
        return BROWSER if os.access(BROWSER, os.X_OK) else None
    return shutil.which(BROWSER)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (Debian's, never a downloaded one)."""
    path = _browser_path()
    if path is None:
        message = (f"Chromium not found at {BROWSER}; install it with: apt-get install chromium "
                   "(or set READINGLIST_BROWSER)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@dataclass
class Tab:
    """A page of a fresh browser context, with what went wrong while it was open."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)
    known: dict[str, list[str]] = field(default_factory=dict)
    external: set[str] = field(default_factory=set)

    def note(self, what: str, url: str) -> None:
        """Record a problem: under its name in ``known`` if it is one of KNOWN, else in ``errors``."""
        text = f"{what}: {url}" if url else what
        for name, pattern in KNOWN.items():
            if pattern.search(text):
                self.known.setdefault(name, []).append(text)
                return
        self.errors.append(text)

    def url(self, path: str = "") -> str:
        return self.base + path.lstrip("/")

    def goto(self, path: str = "") -> None:
        """Open a site path and wait until the theme's scripts have run."""
        self.page.goto(self.url(path), wait_until="load")
        self.page.wait_for_function("() => typeof document$ !== 'undefined'")

    def site_path(self) -> str:
        """The current URL as a path below the site root (``papers/x/``)."""
        url = self.page.url.split("#", 1)[0].split("?", 1)[0]
        assert url.startswith(self.base), url
        return url[len(self.base):]

    def no_horizontal_scroll(self) -> tuple[int, int]:
        """(scrollWidth, innerWidth) of the document."""
        return self.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")

    def widest(self, limit: int = 5) -> list[str]:
        """Elements sticking out on the right: a diagnosis for horizontal scrolling."""
        return self.page.evaluate(
            """(limit) => {
                const w = window.innerWidth, out = [];
                for (const el of document.querySelectorAll('body *')) {
                    const r = el.getBoundingClientRect();
                    if (r.right > w + 1 && r.width > 0) {
                        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                            (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                        out.push(`${name} right=${Math.round(r.right)} ${(el.textContent || '').trim().slice(0, 50)}`);
                        if (out.length >= limit) break;
                    }
                }
                return out;
            }""",
            limit,
        )

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_tab(browser, site_url: str):
    """Factory: ``open_tab(viewport=..., scheme='light'|'dark')`` gives a new :class:`Tab`.

    Console errors, uncaught exceptions, failed requests and HTTP errors from the site are
    collected in ``tab.errors``; contexts are closed at the end of the test.
    """
    contexts = []

    def factory(viewport: dict | None = None, scheme: str = "light") -> Tab:
        context = browser.new_context(viewport=viewport or DESKTOP, color_scheme=scheme,
                                      reduced_motion="reduce", service_workers="block")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page=page, base=site_url)
        origin = urlsplit(site_url).netloc

        def external(route) -> None:
            host = urlsplit(route.request.url).hostname or ""
            tab.external.add(host)
            content_type = "text/css" if route.request.resource_type == "stylesheet" else "text/plain"
            route.fulfill(status=200, body="", content_type=content_type)

        page.route(lambda url: urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin,
                   external)
        def console(msg) -> None:
            if msg.type == "error":
                tab.note(f"console: {msg.text}", msg.location.get("url", ""))

        def failed(request) -> None:
            # Leaving a page cancels what it was still loading; that is not a failure.
            if request.failure != "net::ERR_ABORTED":
                tab.note(f"request failed: {request.failure}", request.url)

        page.on("console", console)
        page.on("pageerror", lambda exc: tab.note(f"uncaught: {exc}", ""))
        page.on("requestfailed", failed)
        page.on("response", lambda res: res.status >= 400 and tab.note(f"HTTP {res.status}", res.url))
        return tab

    yield factory
    for context in contexts:
        context.close()


def assert_clean(tab: Tab) -> None:
    """No console errors, uncaught exceptions or failed requests while the tab was open, and
    no requests to other hosts than the known font hosts."""
    assert tab.errors == [], "\n".join(tab.errors)
    assert unexpected_hosts(tab) == set(), f"requests to other hosts: {sorted(unexpected_hosts(tab))}"


# WCAG contrast ratio of the first visible element matching each selector: its text colour
# over its background, both composited over the backgrounds of its ancestors.
_CONTRAST_JS = r"""
(selectors) => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3]; return [0,1,2].map(i => top[i]*a + bottom[i]*(1-a)).concat([1]); };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255,255,255,1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const out = [];
  for (const sel of selectors) {
    const el = [...document.querySelectorAll(sel)].find(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');
    if (!el) { out.push([sel, null]); continue; }
    const color = parse(getComputedStyle(el).color);
    if (!color) { out.push([sel, null]); continue; }  // a colour syntax this does not read
    const bg = background(el); const fg = over(color, bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push([sel, Math.round((a + 0.05) / (b + 0.05) * 100) / 100, getComputedStyle(el).fontSize]);
  }
  return out;
}
"""


def contrast(tab: Tab, selectors: list[str]) -> dict[str, tuple[float, str]]:
    """{selector: (contrast ratio, font size)} for the selectors that match a visible element."""
    return {sel: (ratio, size) for sel, ratio, *size in tab.page.evaluate(_CONTRAST_JS, selectors)
            if ratio is not None for size in size}


def unexpected_hosts(tab: Tab) -> set[str]:
    """External hosts the page asked for beyond the known font hosts."""
    return {h for h in tab.external if h not in KNOWN_EXTERNAL_HOSTS}


def slug_words(text: str) -> list[str]:
    """Lower-case words of *text* (for building search queries)."""
    return re.findall(r"[a-z0-9]+", text.lower())
