"""The Plotly both components draw with: a committed partial bundle, its URL and its version.

The file is ``explorer/static/plotly-gl3d.min.js``: plotly.js's *gl3d* partial bundle (npm package
``plotly.js-gl3d-dist-min``, MIT licence next to it), at exactly the plotly.js version the pinned
Python ``plotly`` embeds. It holds every trace type the app draws (``mesh3d`` for the 3D scene,
``scatter`` for the body chart; ``tests/test_deploy.py`` checks both) at about a third of the full
``plotly.min.js`` (1.75 MB instead of 4.8 MB; 0.56 MB gzipped).

Why ``explorer/static/`` and not the components' asset folder: Streamlit serves
``<folder of the main script>/static/`` at ``/app/static/`` from the moment it starts
(``server.enableStaticServing``), while ``/_stcore/bidi-components/...`` answers 404 until a
session has registered the component. The file is committed, so a fresh server, a new replica or
a container image has it before any session (nothing is written at run time), and a reverse
proxy can preload it in parallel with Streamlit's own scripts (``deploy/nginx.conf`` sends a
``Link: <...>; rel=preload`` header with the page). How to update it: ``explorer/static/README.md``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import subprocess
import zlib
from pathlib import Path

import streamlit as st

from explorer.settings import STATIC_DIR

_LOG = logging.getLogger(__name__)

PLOTLY_FILENAME: str = "plotly-gl3d.min.js"
# Committed Brotli copies of the static files (explorer/ui/first_load.py sends them to browsers that
# accept "br"): file name -> {"br": name of the copy, "size", "crc32"} of the file it was made from.
PRECOMPRESSED_MANIFEST: str = "precompressed.json"
PRECOMPRESSED_FILES: tuple[str, ...] = (PLOTLY_FILENAME,)
# URL path of the static folder below Streamlit's base URL (Streamlit's static file serving).
STATIC_URL_PATH: str = "app/static"
# Environment variable switching browser workarounds off: "all" or ids from gl_workarounds.js.
NO_WORKAROUNDS_ENV: str = "LUMBAR_NO_WORKAROUNDS"
# The bundle's first comment names its version: "* plotly.js (gl3d - minified) v4.1.1".
_VERSION_PATTERN = re.compile(r"plotly\.js(?: \([^)\n]*\))? v(\d+\.\d+\.\d+[^\s*]*)")


def plotly_bundle_path(static_dir: Path | None = None) -> Path:
    """Path of the committed Plotly bundle.

    Parameters
    ----------
    static_dir : pathlib.Path or None
        Folder holding it; defaults to :data:`explorer.settings.STATIC_DIR` (``explorer/static``).

    Returns
    -------
    pathlib.Path
        ``explorer/static/plotly-gl3d.min.js``.
    """
    return (Path(static_dir) if static_dir is not None else STATIC_DIR) / PLOTLY_FILENAME


def read_bundle_version(path: Path) -> str:
    """The plotly.js version named in a bundle's header comment.

    Parameters
    ----------
    path : pathlib.Path
        A plotly.js bundle (full or partial).

    Returns
    -------
    str
        E.g. ``"4.1.1"``; ``""`` if the file cannot be read or names no version.
    """
    try:
        with path.open("rb") as f:
            head = f.read(400).decode("ascii", "replace")
    except OSError:
        return ""
    match = _VERSION_PATTERN.search(head)
    return match.group(1) if match else ""


def ensure_plotly_static(static_dir: Path | None = None) -> Path:
    """Check that the committed Plotly bundle is there (nothing is copied or written).

    Kept for the components, which call it before drawing: a missing bundle (a broken checkout
    or image) is logged once with the fix, and the browser shows the components' load-error text.

    Parameters
    ----------
    static_dir : pathlib.Path or None
        Folder holding it; defaults to :data:`explorer.settings.STATIC_DIR`.

    Returns
    -------
    pathlib.Path
        Path of the bundle (which may be missing, see above).
    """
    path = plotly_bundle_path(static_dir)
    if not path.is_file():
        _LOG.error("%s is missing: the 3D view and the body chart cannot draw. It is part of the "
                   "repository; restore it (git checkout -- %s) or see explorer/static/README.md.",
                   path, path.name)
    return path


_static_checked: bool = False


def ensure_plotly_static_once() -> None:
    """:func:`ensure_plotly_static` on the first call in this process only (every rerun asks)."""
    global _static_checked
    if not _static_checked:
        ensure_plotly_static()
        _static_checked = True


def plotly_url() -> str:
    """URL of the served Plotly bundle, honouring ``server.baseUrlPath``.

    Returns
    -------
    str
        E.g. ``/app/static/plotly-gl3d.min.js?v=4.1.1`` (the query, the bundle's plotly.js
        version, busts stale browser caches when the bundle is updated). ``deploy/nginx.conf``
        preloads exactly this URL.
    """
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, STATIC_URL_PATH, PLOTLY_FILENAME) if p)
    return f"/{path}?v={plotly_js_version()}"


@functools.cache
def plotly_js_version() -> str:
    """Version of the served plotly.js, read from the bundle's header.

    The browser guards its workarounds on it before Plotly itself has loaded.

    Returns
    -------
    str
        E.g. ``"4.1.1"``; ``""`` if the header cannot be read.
    """
    return read_bundle_version(plotly_bundle_path())


def python_plotly_js_version() -> str:
    """The plotly.js version the installed Python ``plotly`` package embeds.

    The committed bundle must be exactly this version (the figures Python builds are validated
    against that plotly.js's schema); ``tests/test_deploy.py`` checks it.

    Returns
    -------
    str
        E.g. ``"4.1.1"`` for plotly 7.1.0.
    """
    from plotly.offline import get_plotlyjs_version  # only tests and tools ask; keeps start-up lean

    return str(get_plotlyjs_version())


def workarounds_off() -> list[str]:
    """Browser workarounds switched off by the environment (:data:`NO_WORKAROUNDS_ENV`).

    Returns
    -------
    list of str
        ``["all"]``, ids from ``explorer/frontend/gl_workarounds.js``, or empty.
    """
    return [part.strip() for part in os.environ.get(NO_WORKAROUNDS_ENV, "").split(",") if part.strip()]


# --------------------------------------------------------------------------- Brotli copies
# Why committed copies: Brotli at its best setting makes the Plotly bundle 456 kB instead of 558 kB
# gzipped (a fifth of the whole first load's HTTP part; issue 12), and every browser asks for "br",
# also over plain http on a lecture hall's network. Python's standard library has no Brotli encoder
# and the app must not need one at run time, so the copy is made once when the bundle is updated
# (:func:`write_precompressed`, with Node's zlib) and checked by tests/test_first_load.py.


@functools.lru_cache(maxsize=16)
def _manifest(static_dir: Path) -> dict[str, dict[str, object]]:
    try:
        value = json.loads((static_dir / PRECOMPRESSED_MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@functools.lru_cache(maxsize=16)
def _read_copy(path: Path, mtime_ns: int) -> bytes | None:
    del mtime_ns  # part of the key: a copy replaced on disk is read again
    try:
        return path.read_bytes()
    except OSError:
        return None


def precompressed(name: str, body: bytes, static_dir: Path | None = None) -> bytes | None:
    """The committed Brotli copy of static file ``name`` if it was made from exactly ``body``.

    Parameters
    ----------
    name : str
        File name in the static folder (``plotly-gl3d.min.js``).
    body : bytes
        The file as Streamlit serves it now (its size and CRC-32 must match the manifest's, so an
        updated bundle without a new copy is sent gzipped, never a stale copy).
    static_dir : pathlib.Path or None
        Defaults to :data:`explorer.settings.STATIC_DIR`.

    Returns
    -------
    bytes or None
        The ``br`` body, or ``None`` (no copy, or made from other bytes).
    """
    folder = Path(static_dir) if static_dir is not None else STATIC_DIR
    entry = _manifest(folder).get(name)
    if not isinstance(entry, dict) or entry.get("size") != len(body) or entry.get("crc32") != zlib.crc32(body):
        return None
    copy = folder / str(entry.get("br", ""))
    if copy.parent != folder or not copy.is_file():
        return None
    return _read_copy(copy, copy.stat().st_mtime_ns)


# Node's zlib (any Node >= 11): Brotli quality 11 with a 16 MB window, the sizes the browser gets.
_NODE_BROTLI = (
    "const z=require('zlib'),fs=require('fs');const [src,dst]=process.argv.slice(1);const b=fs.readFileSync(src);"
    "fs.writeFileSync(dst,z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,"
    "[z.constants.BROTLI_PARAM_LGWIN]:24,[z.constants.BROTLI_PARAM_SIZE_HINT]:b.length}}));"
)


def write_precompressed(static_dir: Path | None = None, node: str = "node") -> dict[str, dict[str, object]]:
    """Make the Brotli copies of :data:`PRECOMPRESSED_FILES` and their manifest (a developer's tool,
    run after updating the bundle: ``python -m explorer.frontend.plotly_assets``; needs Node)."""
    folder = Path(static_dir) if static_dir is not None else STATIC_DIR
    manifest: dict[str, dict[str, object]] = {}
    for name in PRECOMPRESSED_FILES:
        src = folder / name
        dst = folder / (name + ".br")
        subprocess.run([node, "-e", _NODE_BROTLI, str(src), str(dst)], check=True, timeout=300)
        body = src.read_bytes()
        manifest[name] = {"br": dst.name, "size": len(body), "crc32": zlib.crc32(body)}
    (folder / PRECOMPRESSED_MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _manifest.cache_clear()
    return manifest


if __name__ == "__main__":
    print(json.dumps(write_precompressed(), indent=1))
