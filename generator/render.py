"""Rendering the gathered site into Markdown pages with the Jinja2 templates.

Every ``{{ value }}`` in a template passes through :func:`generator.escape.text` unless the
value is :class:`~markupsafe.Markup` (URLs, links, numbers formatted by a filter), so a
template cannot forget to escape untrusted text.  Links between pages are written as
relative links to the source files (``../topics/x.md``) so that MkDocs validates them.
"""

from __future__ import annotations

import datetime as dt
import functools
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import jinja2
from markupsafe import Markup

from . import escape, urls
from .diagnostics import ContentError, Diagnostic, Location, display_path
from .cleaning import first_sentence


# Small whole numbers (list positions, counts) are printed over and over.
_SMALL_NUMBERS = [Markup(str(n)) for n in range(1000)]


def _finalize(value: Any) -> Any:
    kind = type(value)
    if kind is Markup:  # the common case first: this runs for every {{ }} of every page
        return value
    if kind is str:
        return escape.text(value)
    if kind is int and 0 <= value < len(_SMALL_NUMBERS):
        return _SMALL_NUMBERS[value]
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return Markup("true" if value else "false")
    if isinstance(value, (int, float)):
        return Markup(str(value))
    return escape.text(value)


def page_link(page_src: str, target_src: str) -> Markup:
    """Relative Markdown link target from the page at *page_src* to another source page."""
    return Markup(urls.relative_link(page_src, target_src))


@jinja2.pass_context
def _link(ctx: jinja2.runtime.Context, target_src: str) -> Markup:
    """Relative Markdown link target from the page being rendered to another source page."""
    return page_link(ctx["page_src"], target_src)


@jinja2.pass_context
def _site_url(ctx: jinja2.runtime.Context, path: str) -> Markup:
    """Relative URL from the page being rendered to a site file (``papers.json``, a feed)."""
    return Markup(escape.url_path(urls.relative_url(ctx["page_src"], path)))


# Pages show the same few hundred days over and over, and strftime is slow.
@functools.lru_cache(maxsize=4096)
def format_date(value: dt.date | None, style: str = "long") -> Markup:
    """``Oct 2, 2023`` (long) or ``2023-10`` (month); empty for None."""
    if value is None:
        return Markup("")
    if style == "month":
        return Markup(value.strftime("%B %Y"))
    if style == "iso":
        return Markup(value.isoformat())
    if style == "ym":
        return Markup(value.strftime("%Y-%m"))
    return Markup(f"{value.strftime('%b')} {value.day}, {value.year}")


def _plural(n: int, word: str, plural: str | None = None) -> Markup:
    return Markup(f"{n:,} {word if n == 1 else (plural or word + 's')}")


def _query(value: str) -> Markup:
    # quote_plus leaves only letters, digits, "_.-~", "+" and %XX escapes: safe in a URL
    # and in Markdown as they are.
    return Markup(quote_plus(str(value)))


def format_score(value: float) -> Markup:
    """A similarity score with two decimals."""
    return escape.number(value, ".2f")


class _Environment(jinja2.Environment):
    """The Jinja environment with plain-dict globals for the templates."""

    def make_globals(self, d: Any) -> dict[str, Any]:
        # The globals are set once, before any template is loaded: a plain dict is much
        # quicker than Jinja's live ChainMap to copy into the context of every page.
        return {**self.globals, **(d or {})}


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """The Jinja environment for the Markdown templates in *templates_dir*."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        # A new environment is made for every build, so templates are re-read then; no
        # need to stat each template file again for every page.
        auto_reload=False,
        autoescape=False,  # Markdown, not HTML: escaping is done by _finalize instead
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        link=_link,
        site_url=_site_url,
        fm=escape.front_matter,
        url=escape.url,
        date=format_date,
        plural=_plural,
        query=_query,
        score=format_score,
        summary=lambda s: first_sentence(str(s)),
        note=escape.markdown_note,
        html=escape.html,
        url_path=escape.url_path,
    )
    env.globals.update(
        paper_src=urls.paper_src,
        topic_src=urls.topic_src,
        listing_src=urls.listing_src,
        # Nesting in a Markdown list is whitespace, which escaping would fold away.
        list_indent=lambda depth: Markup("    " * int(depth)),
    )
    return env


class Renderer:
    """Renders pages from templates with a shared context (the whole gathered site)."""

    def __init__(self, templates_dir: Path, context: dict[str, Any]):
        self.templates_dir = Path(templates_dir).resolve()
        self.env = make_environment(templates_dir)
        self.context = context

    def page(self, template: str, page_src: str, **values: Any) -> str:
        """Render *template* as the page at *page_src* (used for relative links).

        A mistake in a template (bad syntax, a name it does not have) is a ContentError at
        the template's file and line, like a mistake in any other hand-edited file."""
        try:
            return self.env.get_template(template).render(self.context, page_src=page_src, **values)
        except jinja2.TemplateError as exc:
            raise ContentError([Diagnostic("error", f"{_template_message(exc)} (rendering {page_src})",
                                           _template_location(exc, self.templates_dir))]) from None


def _template_message(exc: jinja2.TemplateError) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template not found: {exc.name}"
    return f"template error: {exc.message or type(exc).__name__}"


def _template_location(exc: jinja2.TemplateError, templates_dir: Path) -> Location | None:
    """Where in the templates *exc* happened: its own place for a syntax error, else the
    innermost template line in the traceback."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return Location(display_path(Path(exc.filename)), exc.lineno or 0)
    place = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.suffix == ".j2" and path.resolve().is_relative_to(templates_dir):
            place = Location(display_path(path), line)
    return place
