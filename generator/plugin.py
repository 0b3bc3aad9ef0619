"""The MkDocs plugin: a thin adapter around :mod:`generator.pipeline`.

It runs the pipeline once per build (``on_files``), adds the pages as virtual files
(nothing is written into ``docs_dir``), watches the content and template folders under
``mkdocs serve``, adds the exports (``papers.json``, feeds) as generated files too, and turns
content errors into a ``PluginError`` (a message, no traceback).  Warnings go through MkDocs
logging so that ``--strict`` catches them.

Under ``mkdocs build`` only the cheap first stage runs in ``on_files`` (content read,
checked and tagged: every file's name is then known); related papers, the map and the
pages themselves are made in a forked process and each page arrives when MkDocs first reads
it.  MkDocs, which converts pages one at a time on one core, starts at once, and the
reading list is made beside it on the other.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel

from . import memory
from .diagnostics import ContentError
from .pipeline import BuildOptions, collect, plan_site, produce, summary_line
from .related import RelatedOptions
from .workers import Background, WorkerError, can_fork

log = get_plugin_logger("readinglist")


def write_if_changed(path: Path, data: bytes) -> Path:
    """Write *data* to *path* unless it already holds exactly that, so an unchanged page
    keeps its modification time (MkDocs' dirty builds skip pages older than their output)."""
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class StreamedFile(File):
    """A generated file whose content is made in the background and arrives when it is
    first read (MkDocs reading the page, copying the file, or any other plugin)."""

    fetch: Callable[[str], str | bytes] | None = None

    def _arrive(self) -> None:
        fetch, self.fetch = self.fetch, None
        if fetch is not None:
            try:
                self._content = fetch(self.src_uri)
            except WorkerError as exc:
                raise _plugin_error(exc) from None

    @property
    def content_bytes(self) -> bytes:
        self._arrive()
        return File.content_bytes.fget(self)

    @content_bytes.setter
    def content_bytes(self, value: bytes) -> None:
        self.fetch = None
        File.content_bytes.fset(self, value)

    @property
    def content_string(self) -> str:
        self._arrive()
        return File.content_string.fget(self)

    @content_string.setter
    def content_string(self, value: str) -> None:
        self.fetch = None
        File.content_string.fset(self, value)

    def copy_file(self, dirty: bool = False) -> None:
        self._arrive()
        super().copy_file(dirty)


class ReadingListConfig(Config):
    """Options of the ``readinglist`` plugin in ``mkdocs.yml``."""

    content_dir = c.Type(str, default="content")
    """Folder with ``sources/``, ``sources.yaml``, ``topics.yaml``, ``overrides.yaml``, ``papers.yaml``."""
    templates_dir = c.Type(str, default="site_templates")
    """Folder with the Jinja2 templates of the generated pages."""
    related_count = c.Type(int, default=8)
    """At most this many related papers per paper."""
    related_min_score = c.Type(float, default=RelatedOptions().min_score)
    """Related papers scoring below this are not shown."""
    parallel = c.Type(bool, default=True)
    """Make the pages in a second process while MkDocs converts them (``mkdocs build`` on
    systems with ``fork``); false makes them all first, in MkDocs' own process."""


class ReadingListPlugin(BasePlugin[ReadingListConfig]):
    """Generates the reading-list pages inside ``mkdocs build`` and ``mkdocs serve``."""

    serving = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Note whether this is ``mkdocs serve``: there pages are backed by cached files so
        that ``mkdocs serve --dirty`` re-renders only the pages an edit changed."""
        self.serving = command == "serve"

    def on_config(self, config):
        """Resolve folders against ``mkdocs.yml`` and register the stylesheet."""
        base = Path(config.config_file_path or ".").parent
        self.content_dir = (base / self.config.content_dir).resolve()
        self.templates_dir = (base / self.config.templates_dir).resolve()
        for folder, key in ((self.content_dir, "content_dir"), (self.templates_dir, "templates_dir")):
            if not folder.is_dir():
                raise PluginError(f"readinglist: {key} '{folder}' is not a folder")
        if self.config.related_count < 0:
            raise PluginError("readinglist: related_count must be 0 or more")
        for sheet in ("assets/readinglist.css", "assets/map.css"):
            if sheet not in config.extra_css:
                config.extra_css.append(sheet)
        # Layouts are cached beside mkdocs.yml, like other MkDocs plugins' caches.
        self.cache_dir = base / ".cache" / "readinglist"
        return config

    def on_files(self, files: Files, config) -> Files:
        """Read the content and add every generated page, asset and export as a virtual file."""
        options = BuildOptions(
            site_name=config.site_name,
            site_description=config.site_description or "",
            site_url=config.site_url or "",
            cache_dir=self.cache_dir,
            related=RelatedOptions(k=self.config.related_count, min_score=self.config.related_min_score),
        )
        try:
            plan = plan_site(self.content_dir, self.templates_dir, options)
        except ContentError as exc:
            raise PluginError(str(exc)) from None
        for message in plan.warnings:
            log.warning(message)
        for src in plan.pages:
            if files.get_file_from_path(src) is not None:
                raise PluginError(f"readinglist: docs_dir already has '{src}', which the reading list generates")
        self.plan = plan
        self.background = None
        if self.config.parallel and not self.serving and can_fork():
            # Under `mkdocs serve` threads run, and forking then is not safe.
            self.background = Background(lambda: _timed(produce(plan, parallel=False)))
            made = None
        else:
            try:
                made, notes = collect(produce(plan))
            except ContentError as exc:  # a mistake in a template
                raise PluginError(str(exc)) from None
            log.info(summary_line(plan.stats, notes, time.perf_counter() - plan.started))
        for src in plan.pages:
            # Paper, topic and listing pages stay out of the nav without a log line each.
            inclusion = InclusionLevel.INCLUDED if src in plan.nav_pages else InclusionLevel.NOT_IN_NAV
            if made is None:
                files.append(self._streamed(config, src, inclusion))
            elif self.serving:
                path = write_if_changed(self.cache_dir / "pages" / src, made[src].encode("utf-8"))
                files.append(File.generated(config, src, abs_src_path=str(path), inclusion=inclusion))
            else:
                files.append(File.generated(config, src, content=made[src], inclusion=inclusion))
        # Exports are files of the site too, so that links to them validate and
        # `mkdocs serve` serves them.
        for name in plan.assets + plan.exports:
            if made is None:
                files.append(self._streamed(config, name, InclusionLevel.UNDEFINED))
            else:
                files.append(File.generated(config, name, content=made[name]))
        return files

    def _streamed(self, config, src: str, inclusion: InclusionLevel) -> StreamedFile:
        file = StreamedFile.generated(config, src, content="", inclusion=inclusion)
        file.fetch = self.background.get
        return file

    def on_env(self, env, config, files):
        """Log the summary once the background work is done (it has made every page by now)."""
        if self.background is not None:
            try:
                notes, finished = self.background.finish()
            except WorkerError as exc:
                raise _plugin_error(exc) from None
            log.info(summary_line(self.plan.stats, notes, finished - self.plan.started))
        return env

    def on_post_build(self, config):
        """Release the background process."""
        self._stop()

    def on_build_error(self, error):
        """Stop the background process of a build that failed."""
        self._stop()

    def _stop(self) -> None:
        if getattr(self, "background", None) is not None:
            self.background.close()
            self.background = None
        if self.serving:
            # The server lives on: what the build froze is collectable again.
            memory.release()

    def on_serve(self, server, config, builder):
        """Rebuild when content or templates change under ``mkdocs serve``."""
        server.watch(str(self.content_dir))
        server.watch(str(self.templates_dir))
        return server


def _timed(items):
    """*items* passed through; returns (their notes, the time they were finished)."""
    notes = yield from items
    return notes, time.perf_counter()


def _plugin_error(exc: WorkerError) -> PluginError:
    """The build error for a failure of the background work: the message alone for a
    mistake in the content or templates, the whole story for anything else."""
    if isinstance(exc.original, ContentError):
        return PluginError(str(exc.original))
    return PluginError(f"readinglist: making the pages failed: {exc}")
