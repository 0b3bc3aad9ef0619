"""A 2-D layout of the reading list for the map: similar papers end up close together.

Papers are placed from the same text vectors as related papers (:mod:`generator.related`):
truncated SVD to a few dozen dimensions, then t-SNE, with fixed seeds.  t-SNE costs grow
faster than linearly, so above :data:`TSNE_LIMIT` papers the layout falls back to the first
two SVD components (cheaper and coarser; the build log says so).  Layouts are cached by a
hash of their input, in memory and optionally on disk, so a rebuild whose papers did not
change does not recompute them.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

# Importing scipy.sparse takes a tenth of a second (it builds a copy of numpy's namespace):
# it is imported where first needed, so that a process that only reads and tags the content
# (MkDocs' own under `mkdocs build`, whose pages are made in a forked process) never does.
if TYPE_CHECKING:
    import scipy.sparse as sp

from .workers import Forked, can_fork

TSNE_LIMIT = 2500
LAYOUT_VERSION = 3
WIDTH, HEIGHT, MARGIN = 1000.0, 640.0, 24.0


@dataclass
class Layout:
    """Paper positions in a ``WIDTH`` x ``HEIGHT`` box, and how they were computed."""

    positions: dict[str, tuple[float, float]]
    method: str  # "t-SNE" or "SVD"
    cached: bool = False


_MEMORY: dict[str, Layout] = {}


def layout_key(ids: list[str], matrix: sp.csr_matrix) -> str:
    """A hash of everything the layout depends on."""
    import scipy.sparse as sp

    h = hashlib.sha256(f"v{LAYOUT_VERSION}|{TSNE_LIMIT}".encode())
    for pid in ids:
        h.update(pid.encode() + b"\0")
    m = sp.csr_matrix(matrix)
    for arr in (m.indptr, m.indices, np.round(m.data.astype(np.float64), 6)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def compute_layout(ids: list[str], matrix: sp.csr_matrix, cache_dir: Path | None = None) -> Layout:
    """Positions for the papers *ids* whose text vectors are the rows of *matrix*.

    Deterministic: fixed seeds, single-threaded numerics, coordinates rounded to 0.1.
    """
    return start_layout(ids, matrix, cache_dir, background=False).result()


class PendingLayout:
    """A layout being computed; :meth:`result` waits for it and caches it."""

    def __init__(self, key: str, ids: list[str], cache_file: Path | None, done: Layout | None = None,
                 work: Callable[[], tuple[np.ndarray, str]] | None = None, background: Forked | None = None) -> None:
        self._key, self._ids, self._cache_file = key, ids, cache_file
        self._done, self._work, self._background = done, work, background

    def ready(self) -> bool:
        """Whether :meth:`result` returns without waiting for another process."""
        return self._done is not None or self._background is None or self._background.ready()

    def result(self) -> Layout:
        """The finished layout (a fresh copy each time)."""
        if self._done is None:
            if self._background is not None:
                coords, method = self._background.result()
            else:
                assert self._work is not None
                coords, method = self._work()
            self._done = _store(self._key, self._ids, coords, method, self._cache_file)
        return Layout(dict(self._done.positions), self._done.method, self._done.cached)


def start_layout(ids: list[str], matrix: sp.csr_matrix, cache_dir: Path | None = None, *,
                 background: bool = True) -> PendingLayout:
    """Start laying out the papers *ids* (rows of *matrix*); see :func:`compute_layout`.

    A cached layout is ready at once.  Otherwise, with *background* and where forking is
    safe, t-SNE or SVD runs in a forked process, on the other core, while the caller goes
    on (computing related papers, making pages); a quick SVD layout (above TSNE_LIMIT
    papers) only takes the time the rest of the build leaves idle, while a t-SNE, much of
    the work of a smaller build, is not left waiting.  Else it runs when the result is
    asked for.
    """
    import scipy.sparse as sp

    key = layout_key(ids, matrix)
    if key in _MEMORY:
        hit = _MEMORY[key]
        return PendingLayout(key, ids, None, done=Layout(dict(hit.positions), hit.method, cached=True))
    cache_file = Path(cache_dir) / f"layout-{key[:32]}.json" if cache_dir else None
    if cache_file and cache_file.is_file():
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            layout = Layout({k: (v[0], v[1]) for k, v in data["positions"].items()}, data["method"], cached=True)
            _MEMORY[key] = layout
            return PendingLayout(key, ids, None, done=Layout(dict(layout.positions), layout.method, cached=True))
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # a damaged cache file is recomputed and overwritten
    matrix = sp.csr_matrix(matrix, dtype=np.float64)

    def work() -> tuple[np.ndarray, str]:
        return _coordinates(matrix)

    if background and can_fork():
        return PendingLayout(key, ids, cache_file, background=Forked(work, background=len(ids) > TSNE_LIMIT))
    return PendingLayout(key, ids, cache_file, work=work)


def _store(key: str, ids: list[str], coords: np.ndarray, method: str, cache_file: Path | None) -> Layout:
    positions = {pid: (float(x), float(y)) for pid, (x, y) in zip(ids, _fit_box(coords))}
    layout = Layout(positions, method)
    _MEMORY[key] = layout
    if cache_file:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps({"method": method, "positions": positions}, sort_keys=True), encoding="utf-8")
    return layout


def _coordinates(matrix: sp.csr_matrix) -> tuple[np.ndarray, str]:
    from threadpoolctl import threadpool_limits

    n = matrix.shape[0]
    if n < 3 or matrix.shape[1] < 3 or matrix.nnz == 0:
        # Too little to lay out: a circle keeps the dots apart.
        angles = np.arange(n) * (2 * math.pi / max(n, 1))
        return np.c_[np.cos(angles), np.sin(angles)], "circle"
    if n > TSNE_LIMIT:
        import scipy.sparse.linalg  # noqa: F401 - loads the BLAS that ARPACK uses
    else:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.manifold import TSNE
    # One thread: multi-threaded sums may differ in the last bit from run to run, and the
    # build's other process has the other core.  Limits apply to the thread pools (OpenMP,
    # BLAS) loaded when they are set, hence the imports above.
    with threadpool_limits(limits=1):
        if n > TSNE_LIMIT:
            return _two_components(matrix), "SVD"

        components = min(50, n - 1, matrix.shape[1] - 1)
        reduced = TruncatedSVD(n_components=components, random_state=0, n_iter=7).fit_transform(matrix)
        if components < 2:
            return np.c_[reduced[:, 0], np.zeros(n)], "SVD"
        reduced = reduced / (np.linalg.norm(reduced, axis=1, keepdims=True) + 1e-12)
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3.0)))
        # 500 iterations (250 of them early exaggeration) settle a reading list's clusters;
        # the default 1,000 doubles the cost for little visible change.
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0, learning_rate="auto",
                    metric="cosine", n_jobs=1, max_iter=500)
        return tsne.fit_transform(reduced), "t-SNE"


def _two_components(matrix: sp.csr_matrix) -> np.ndarray:
    """The papers' coordinates on the first two singular vectors of *matrix* (n > 3 rows
    and columns), each axis signed so that its largest coordinate is positive.

    Only two components are needed, so ARPACK finds them exactly, from a fixed start
    vector, in a fraction of the time a general truncated SVD takes (and without loading
    scikit-learn).
    """
    from scipy.sparse.linalg import svds

    start = np.full(min(matrix.shape), 1.0 / math.sqrt(min(matrix.shape)))
    u, s, _ = svds(matrix, k=2, solver="arpack", v0=start)
    order = np.argsort(-s)
    coords = u[:, order] * s[order]
    # Singular vectors have no sign of their own: fix one, so equal input draws one map.
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])
    return coords * np.where(signs == 0, 1.0, signs)


def _fit_box(coords: np.ndarray) -> np.ndarray:
    """Scale coordinates to fill the drawing box, rounded to 0.1.

    The axes of t-SNE and SVD have no meaning of their own, so each is stretched to the box
    (within a factor of 1.6 of the other) rather than leaving the sides of the map empty.
    """
    if len(coords) == 0:
        return coords
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    sx, sy = (WIDTH - 2 * MARGIN) / span[0], (HEIGHT - 2 * MARGIN) / span[1]
    sx, sy = min(sx, 1.6 * sy), min(sy, 1.6 * sx)
    centre = (lo + hi) / 2
    out = (coords - centre) * np.array([sx, sy]) + np.array([WIDTH / 2, HEIGHT / 2])
    return np.round(out, 1)


def clear_cache() -> None:
    """Forget the in-memory layouts (tests)."""
    _MEMORY.clear()
