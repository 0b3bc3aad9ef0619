"""Writing the generated site sources to a folder, for renderers other than MkDocs.

``readinglist write --out DIR`` puts every generated page, asset and export into DIR so
that another renderer (Zensical, or MkDocs without the plugin) can build the site from
plain files.  The folder may hold files of the maintainer's own (say ``about.md``), so
the writer keeps a manifest of what it wrote and only ever touches those files: a re-run
rewrites the files whose bytes changed, removes the ones the content no longer produces,
and leaves everything else alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .models import Site

MANIFEST = ".readinglist-manifest.json"
_MANIFEST_KIND = "readinglist generated files"


class WriteError(Exception):
    """The output folder cannot be written safely; the message says what to do."""


@dataclass
class WriteResult:
    """What one run did, as site-relative paths in sorted order."""

    written: list[str] = field(default_factory=list)  # new or changed files
    unchanged: list[str] = field(default_factory=list)  # same bytes as on disk: not rewritten
    removed: list[str] = field(default_factory=list)  # written last time, no longer generated


def site_files(site: Site) -> dict[str, bytes]:
    """Every file the site generates (pages, assets, exports) by site path, sorted by path."""
    files: dict[str, bytes] = {src: text.encode("utf-8") for src, text in site.pages.items()}
    files.update(site.assets)
    files.update(site.exports)
    return dict(sorted(files.items()))


def write_site(site: Site, out: Path) -> WriteResult:
    """Write the generated files of *site* into *out* and return what changed.

    Identical files are left untouched (so their modification times stay and tools that
    watch the folder see only real changes); files listed in the previous manifest that the
    site no longer generates are removed, with any folders they leave empty.  Files the
    writer did not write are never removed or overwritten: if one stands where a generated
    file would go, nothing is written and :class:`WriteError` names it.
    """
    return write_files(site_files(site), Path(out))


def write_files(files: dict[str, bytes], out: Path) -> WriteResult:
    """Write *files* (site path -> bytes) into *out*, keeping the manifest; see :func:`write_site`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out} is a file, not a folder; choose another --out")
    for name in files:
        _check_path(name, f"generated file '{name}'")
    previous = _read_manifest(out)
    _refuse_foreign_files(files, previous, out)

    result = WriteResult()
    for name, data in files.items():
        target = out / name
        if target.is_file() and target.read_bytes() == data:
            result.unchanged.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_bytes(target, data)
        result.written.append(name)

    for name in sorted(previous - files.keys()):
        target = out / name
        if target.is_file() or target.is_symlink():
            target.unlink()
            result.removed.append(name)
        _remove_empty_parents(target.parent, out)

    manifest = _manifest_bytes(files)
    manifest_path = out / MANIFEST
    if not (manifest_path.is_file() and manifest_path.read_bytes() == manifest):
        _write_bytes(manifest_path, manifest)
    return result


def _check_path(name: str, what: str) -> None:
    # Paths come from the generator or from a manifest on disk; either way, a path that
    # could leave the output folder must never be written or deleted.
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or name == MANIFEST:
        raise WriteError(f"{what} is not a plain relative path inside the output folder")


def _read_manifest(out: Path) -> set[str]:
    path = out / MANIFEST
    if not path.exists():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data["files"] if isinstance(data, dict) and data.get("kind") == _MANIFEST_KIND else None
    except (OSError, ValueError, KeyError):
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise WriteError(
            f"{path} is not a manifest written by readinglist; "
            "delete it (and the files it may have listed) or choose another --out"
        )
    for name in names:
        _check_path(name, f"{path} lists '{name}', which")
    return set(names)


def _refuse_foreign_files(files: dict[str, bytes], previous: set[str], out: Path) -> None:
    # A different file at a generated path belongs to someone else (a hand-written
    # index.md, say): overwriting it would lose work, so stop before writing anything.
    foreign = [
        name for name, data in files.items()
        if name not in previous and (out / name).exists()
        and not ((out / name).is_file() and (out / name).read_bytes() == data)
    ]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise WriteError(
            f"{out} already has files that readinglist did not write but would overwrite: {shown}; "
            "move them away or choose an empty --out folder"
        )


def _manifest_bytes(files: dict[str, bytes]) -> bytes:
    data = {"kind": _MANIFEST_KIND, "files": sorted(files)}
    return (json.dumps(data, indent=1) + "\n").encode("utf-8")


def _write_bytes(target: Path, data: bytes) -> None:
    # Write beside the target and rename, so that a renderer watching the folder never
    # reads a half-written page.
    tmp = target.with_name(target.name + ".readinglist-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _remove_empty_parents(folder: Path, out: Path) -> None:
    while folder != out and out in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): stop climbing
            return
        folder = folder.parent
