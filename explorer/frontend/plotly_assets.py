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
import logging
import os
import re
from pathlib import Path

import streamlit as st

from explorer.settings import STATIC_DIR

_LOG = logging.getLogger(__name__)

PLOTLY_FILENAME: str = "plotly-gl3d.min.js"
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
