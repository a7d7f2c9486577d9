"""The plotly.min.js both components draw with: copied into the app's static folder and served
by Streamlit at ``/app/static/plotly.min.js`` (no CDN, works offline), and its version.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import streamlit as st

from explorer.render.scene3d import plotly_js_path, plotly_version
from explorer.settings import STATIC_DIR

_LOG = logging.getLogger(__name__)

PLOTLY_FILENAME: str = "plotly.min.js"
# Environment variable switching browser workarounds off: "all" or ids from gl_workarounds.js.
NO_WORKAROUNDS_ENV: str = "LUMBAR_NO_WORKAROUNDS"


def ensure_plotly_static(static_dir: Path | None = None) -> Path:
    """Copy the plotly package's ``plotly.min.js`` into the app's static folder if needed.

    Streamlit serves ``<folder of the main script>/static/<file>`` at ``/app/static/<file>``
    when ``server.enableStaticServing`` is on. The copy is refreshed when missing or of a
    different size (plotly was upgraded). It is written to a temporary file and renamed, so
    concurrent sessions never serve a half-written file.

    Parameters
    ----------
    static_dir : pathlib.Path or None
        Target folder; defaults to :data:`explorer.settings.STATIC_DIR` (``explorer/static``).

    Returns
    -------
    pathlib.Path
        Path of the copied ``plotly.min.js``.
    """
    target_dir = Path(static_dir) if static_dir is not None else STATIC_DIR
    src = plotly_js_path()
    dest = target_dir / PLOTLY_FILENAME
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        return dest
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".plotly-", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _LOG.info("copied %s -> %s", src, dest)
    return dest


_static_checked: bool = False


def ensure_plotly_static_once() -> None:
    """:func:`ensure_plotly_static` on the first call in this process only (every rerun asks)."""
    global _static_checked
    if not _static_checked:
        ensure_plotly_static()
        _static_checked = True


def plotly_url() -> str:
    """URL of the served ``plotly.min.js``, honouring ``server.baseUrlPath``.

    Returns
    -------
    str
        E.g. ``/app/static/plotly.min.js?v=7.1.0`` (the query busts stale browser caches).
    """
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, "app/static", PLOTLY_FILENAME) if p)
    return f"/{path}?v={plotly_version()}"


_plotly_js_version: str | None = None


def plotly_js_version() -> str:
    """Version of the served plotly.js, read from its header (``/** * plotly.js v4.1.1 ...``).

    The browser guards its workarounds on it before Plotly itself has loaded.

    Returns
    -------
    str
        E.g. ``"4.1.1"``; ``""`` if the header cannot be read.
    """
    global _plotly_js_version
    if _plotly_js_version is None:
        try:
            with plotly_js_path().open("rb") as f:
                head = f.read(400).decode("ascii", "replace")
        except OSError:
            head = ""
        match = re.search(r"plotly\.js v(\d+\.\d+\.\d+\S*)", head)
        _plotly_js_version = match.group(1) if match else ""
    return _plotly_js_version


def workarounds_off() -> list[str]:
    """Browser workarounds switched off by the environment (:data:`NO_WORKAROUNDS_ENV`).

    Returns
    -------
    list of str
        ``["all"]``, ids from ``explorer/frontend/gl_workarounds.js``, or empty.
    """
    return [part.strip() for part in os.environ.get(NO_WORKAROUNDS_ENV, "").split(",") if part.strip()]
