"""The browser side of the app's two Streamlit components, and how Python registers them.

The JavaScript (ES modules) and CSS live in this folder as ordinary files:

* ``viewer3d.js`` / ``viewer3d.css``: the 3D viewer (:mod:`explorer.ui.viewer3d`),
* ``chart2d.js`` / ``chart2d.css``: the body chart (:mod:`explorer.ui.chart2d`),
* ``bodychart_svg.js``: draws the body chart's Plotly-format figure as SVG without Plotly (chart2d.js uses it),
* ``plotly_loader.js``: the one loader of the served ``plotly.min.js`` (the 3D viewer's; the chart needs none),
* ``page_shared.js``: the page-wide object both components share (``window.__lumbar3d``),
* ``gl_workarounds.js``: every browser workaround and reach into Plotly's internals,
* ``geometry.js``, ``camera.js``, ``interaction.js``: pure logic, tested with
  ``node --test tests/js``.

and the Python both components share: :mod:`explorer.frontend.transport` (the 3D figure split
into geometry sent once and per-rerun style) and :mod:`explorer.frontend.plotly_assets` (the
served ``plotly.min.js``, its version, the workaround switches).

Streamlit Components v2 serves the folder because ``pyproject.toml`` declares it as the
components' ``asset_dir`` (``[tool.streamlit.component]``); Streamlit reads that table from the
*installed* distribution ``explorer`` (``pip install -e .``, part of ``requirements.txt``). The
browser loads ``/_stcore/bidi-components/explorer.viewer3d/viewer3d.js`` as a module, which
imports its neighbours by relative URL; no script text travels over the websocket per rerun.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

ASSET_DIR: Path = Path(__file__).resolve().parent
PROJECT_NAME: str = "explorer"  # [project].name in pyproject.toml: component names are "<project>.<name>"

NOT_INSTALLED_TEXT: str = (
    "The app's viewer code is not registered with Streamlit: install the project first, from its folder: "
    "pip install -r requirements.txt (it runs pip install -e .), then restart streamlit."
)


class AssetComponent:
    """A Components v2 component whose JavaScript and CSS are files in :data:`ASSET_DIR`.

    Created on first use, inside a script run: Streamlit resolves file paths against the asset
    directories it found in installed packages when its runtime started, and outside a runtime
    it has none.

    Parameters
    ----------
    name : str
        Component name as declared in ``pyproject.toml`` (registered as ``explorer.<name>``).
    js, css : str
        File names relative to :data:`ASSET_DIR`.
    """

    def __init__(self, name: str, *, js: str, css: str) -> None:
        for file_name in (js, css):
            if not (ASSET_DIR / file_name).is_file():
                raise FileNotFoundError(f"front-end file missing: {ASSET_DIR / file_name}")
        self.name = f"{PROJECT_NAME}.{name}"
        self.js = js
        self.css = css
        self._mount: Any = None

    def __call__(self, **kwargs: Any) -> Any:
        """Mount the component (keyword arguments as for a Components v2 mount).

        Returns
        -------
        streamlit.components.v2.bidi_component.ComponentResult or dict
            The component's state; an empty dict, after showing :data:`NOT_INSTALLED_TEXT`, when
            the project is not installed (so Streamlit cannot serve the files).
        """
        if self._mount is None:
            try:
                self._mount = st.components.v2.component(self.name, js=self.js, css=self.css,
                                                         isolate_styles=False)
            except StreamlitAPIException:
                st.error(NOT_INSTALLED_TEXT)
                return {}
        return self._mount(**kwargs)
