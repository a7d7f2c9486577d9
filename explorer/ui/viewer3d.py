"""The 3D viewer: a small Streamlit Components v2 (CCv2) component around ``Plotly.react``.

Why not ``st.plotly_chart``: it resets a 3D camera whenever the figure changes (streamlit issue
8882) and reports no clicks on 3D meshes. This component keeps ONE persistent Plotly graph div
and updates it in place, so the camera the person rotated survives every rerun, and it reports
clicks on meshes back to Python.

How it works
------------
* Python sends ``data = {figure: <JSON text>, cameraRequest, cameraRequestId, ...}``. The JS
  module's default export runs on the first mount and again whenever ``data`` changes (the DOM
  element persists between calls because the component has a fixed ``key``).
* Camera: if ``cameraRequestId`` is the one applied last time, the figure's camera is replaced
  by the div's live camera before ``Plotly.react`` (the person's rotation wins). A new id means
  the person picked a preset view: the requested camera is applied.
* Plotly.js is the copy bundled with the plotly Python package, served by Streamlit's static
  file serving at ``/app/static/plotly.min.js`` (no CDN, works offline); see
  :func:`ensure_plotly_static`.
* Clicks: plotly fires ``plotly_click`` on mouse-down in 3D (plotly.js issue 6185), so a click is
  only reported when the pointer moved < 5 px between down and up (i.e. not a rotation drag).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from explorer.render.scene3d import figure_to_json, plotly_js_path, plotly_version
from explorer.settings import SCENE_BACKGROUND, STATIC_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from plotly.graph_objects import Figure

_LOG = logging.getLogger(__name__)

COMPONENT_NAME: str = "lumbar_explorer.viewer3d"
PLOTLY_FILENAME: str = "plotly.min.js"
# Pixels the pointer may move between press and release and still count as a click.
CLICK_TOLERANCE_PX: int = 5
# Report the camera to Python at most this often (each report costs a script rerun).
CAMERA_REPORT_DEBOUNCE_MS: int = 600

FALLBACK_TEXT: str = (
    "The 3D model needs WebGL, which this browser has turned off or does not support. "
    "Try another browser (Chrome, Edge, Firefox or Safari) or enable hardware acceleration."
)
LOAD_ERROR_TEXT: str = (
    "The 3D viewer could not load its drawing library (plotly.min.js). "
    "Check that server.enableStaticServing is true in .streamlit/config.toml."
)

RENDER_ERROR_TEXT: str = "The 3D view could not be drawn. Reload the page to try again."


@dataclass(frozen=True)
class ViewerEvent:
    """A click on a structure in the 3D viewer.

    Attributes
    ----------
    structure_id : str
        Id of the clicked structure (the trace's ``meta``).
    structure_name : str
        Its display name (the trace's ``name``).
    camera : dict or None
        Last camera the browser reported (only with ``report_camera=True``).
    """

    structure_id: str
    structure_name: str
    camera: dict[str, Any] | None = None


# --------------------------------------------------------------------------- front end
_CSS = f"""
.lumbar-3d-wrap {{ width: 100%; position: relative; }}
.lumbar-3d {{ width: 100%; background: {SCENE_BACKGROUND}; border-radius: 0.5rem; overflow: hidden; }}
.lumbar-3d-fallback {{
  margin: 0; padding: 1rem 1.25rem; border: 2px solid #B3261E; border-radius: 0.5rem;
  background: #FFF4F2; color: #3B0A06; font-size: 1.1rem; line-height: 1.5;
}}
.lumbar-3d-fallback[hidden] {{ display: none; }}
"""

# The default export is called on mount and again for every rerun whose `data` changed, with the
# same `parentElement` (a plain div, as isolate_styles=False). Everything that must outlive one
# call (the graph div, listeners, the last applied camera request) is kept on the DOM node, and
# in a window-level map keyed by the Streamlit key so a remount can restore the camera.
_JS = """
const TOL = __TOL__;
const DEBOUNCE_MS = __DEBOUNCE__;
const G = (window.__lumbar3d ??= { plotly: null, webgl: undefined, memory: {} });

function hasWebGL() {
  if (G.webgl === undefined) {
    try {
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("webgl2") || canvas.getContext("webgl");
      G.webgl = !!ctx;
      ctx?.getExtension("WEBGL_lose_context")?.loseContext();  // free the probe context
    } catch (e) {
      G.webgl = false;
    }
  }
  return G.webgl;
}

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!G.plotly) {
    G.plotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.dataset.lumbarPlotly = "1";
      s.addEventListener("load", () =>
        window.Plotly ? resolve(window.Plotly) : reject(new Error("window.Plotly missing")));
      s.addEventListener("error", () => {
        s.remove();
        const err = new Error("could not load " + url);
        err.isLoadError = true;
        reject(err);
      });
      document.head.appendChild(s);
    });
    G.plotly.catch(() => { G.plotly = null; });  // let a later rerun retry
  }
  return G.plotly;
}

function clone(obj) { return obj == null ? obj : JSON.parse(JSON.stringify(obj)); }

// The live camera. _scene.getCamera() is current even mid-drag; _fullLayout.scene.camera is
// only updated when plotly emits plotly_relayout.
function liveCamera(gd) {
  const sceneLayout = gd._fullLayout?.scene;
  if (!sceneLayout) return null;
  const cam = sceneLayout._scene?.getCamera?.() ?? sceneLayout.camera;
  return cam ? clone(cam) : null;
}

function showMessage(st, text) {
  st.msg.textContent = text;
  st.msg.hidden = false;
  st.gd.hidden = true;
}

function attachListeners(st) {
  const { gd, wrap } = st;
  // Click = press and release with < TOL px of movement. plotly 3D emits plotly_click on
  // mouse-down (also when a rotation starts) and picks meshes in its render loop, so:
  //  * a plotly_click during the press is only reported at release, if the pointer did not drag;
  //  * a press shorter than one frame (slow software WebGL) gets no plotly_click, so the mesh
  //    hovered when the press started is used; if nothing was hovered yet, the next hover/click
  //    pick at the release point (within LATE_MS) is used.
  const LATE_MS = 700;
  st.down = null;      // {x, y, moved, hovered} while a button is pressed
  st.pending = null;   // plotly_click received during the press
  st.hovered = null;   // last plotly_hover
  st.lateUp = null;    // {t, x, y}: a click whose pick has not arrived yet
  const onDown = (e) => {
    st.down = { x: e.clientX, y: e.clientY, moved: false, hovered: st.hovered };
    st.pending = null;
    st.lateUp = null;
  };
  const onMove = (e) => {
    if (st.down && Math.hypot(e.clientX - st.down.x, e.clientY - st.down.y) >= TOL) {
      st.down.moved = true;
    }
    if (st.lateUp && Math.hypot(e.clientX - st.lateUp.x, e.clientY - st.lateUp.y) >= TOL) {
      st.lateUp = null;
    }
  };
  const onUp = (e) => {
    if (!st.down) return;
    onMove(e);
    if (!st.down.moved) {
      const hit = st.pending ?? st.down.hovered;
      if (hit) report(st, hit);
      else st.lateUp = { t: performance.now(), x: e.clientX, y: e.clientY };
    } else {
      st.hovered = null;  // the scene rotated under the pointer; wait for a fresh pick
    }
    st.down = null;
    st.pending = null;
  };
  const takeLate = (info) => {
    const late = st.lateUp;
    st.lateUp = null;
    if (late && performance.now() - late.t < LATE_MS) report(st, info);
  };
  wrap.addEventListener("pointerdown", onDown, true);
  window.addEventListener("pointermove", onMove, true);
  window.addEventListener("pointerup", onUp, true);
  window.addEventListener("pointercancel", onUp, true);
  st.removeWindowListeners = () => {
    window.removeEventListener("pointermove", onMove, true);
    window.removeEventListener("pointerup", onUp, true);
    window.removeEventListener("pointercancel", onUp, true);
  };

  gd.on("plotly_click", (ev) => {
    const info = pointInfo(ev);
    if (!info) return;
    if (st.down) st.pending = info;  // decided at release
    else takeLate(info);
  });
  gd.on("plotly_hover", (ev) => {
    st.hovered = pointInfo(ev);
    if (st.hovered && !st.down && st.lateUp) takeLate(st.hovered);
  });
  gd.on("plotly_unhover", () => { st.hovered = null; });

  gd.on("plotly_relayout", (ev) => {
    if (!ev || !Object.keys(ev).some((k) => k.startsWith("scene"))) return;
    rememberCamera(st);
    if (!st.latest?.reportCamera) return;
    clearTimeout(st.cameraTimer);
    st.cameraTimer = setTimeout(() => {
      const cam = liveCamera(gd);
      const text = JSON.stringify(cam);
      if (cam && text !== st.reportedCamera) {
        st.reportedCamera = text;
        st.api.setStateValue("camera", cam);
      }
    }, DEBOUNCE_MS);
  });

  // Streamlit resizes columns/sidebar without a window resize event.
  let resizeTimer = null;
  st.resizeObserver = new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (gd.isConnected && gd._fullLayout) window.Plotly.Plots.resize(gd);
    }, 100);
  });
  st.resizeObserver.observe(wrap);
}

function pointInfo(ev) {
  const pt = ev?.points?.[0];
  if (!pt) return null;
  const trace = pt.data ?? pt.fullData ?? {};
  const id = String(trace.meta ?? "");  // uid may carry a suffix (scene3d.trace_uid)
  return id ? { id, name: String(trace.name ?? "") } : null;
}

function report(st, info) {
  st.api.setTriggerValue("clicked", info);
}

function rememberCamera(st) {
  const mem = (G.memory[st.latest.key] ??= {});
  mem.camera = liveCamera(st.gd);
}

async function render(st, d) {
  const Plotly = await loadPlotly(d.plotlyUrl);
  const gd = st.gd;
  const mem = (G.memory[d.key] ??= {});
  const newRequest = d.cameraRequest != null && d.cameraRequestId !== mem.requestId;

  let camera = null;
  if (newRequest) camera = clone(d.cameraRequest);          // person picked a preset view
  else if (st.plotted) camera = liveCamera(gd);             // keep the person's rotation
  else if (mem.camera) camera = clone(mem.camera);          // remount: restore last camera

  if (!st.plotted || d.figure !== st.figureText) {
    const fig = JSON.parse(d.figure);
    fig.layout ??= {};
    fig.layout.scene ??= {};
    if (camera) fig.layout.scene.camera = camera;
    fig.layout.autosize = true;
    delete fig.layout.width;  // width follows the container
    if (!st.plotted) {
      await Plotly.newPlot(gd, fig.data, fig.layout, d.config);
      st.plotted = true;
      attachListeners(st);
    } else {
      await Plotly.react(gd, fig.data, fig.layout, d.config);
    }
    st.figureText = d.figure;
  }
  // Apply a requested view explicitly: with a constant uirevision, Plotly.react keeps the GUI
  // camera when the new input equals the previous input (same preset picked twice).
  if (newRequest) await Plotly.relayout(gd, { "scene.camera": camera });
  mem.requestId = d.cameraRequestId;
  mem.camera = liveCamera(gd);
  // Tests and benchmarks wait for this to change: the figure sent by the last rerun is drawn.
  gd.dataset.renderSeq = String(Number(gd.dataset.renderSeq || 0) + 1);
}

async function pump(st) {
  if (st.busy) return;  // the running loop will pick up st.latest
  st.busy = true;
  try {
    while (st.dirty) {
      st.dirty = false;
      await render(st, st.latest);
    }
    st.gd.hidden = false;
    st.msg.hidden = true;
  } catch (err) {
    console.error("lumbar 3D viewer:", err);
    const text = err?.isLoadError ? st.latest.loadErrorText : st.latest.renderErrorText;
    showMessage(st, text + " (" + (err?.message ?? err) + ")");
  } finally {
    st.busy = false;
  }
}

function teardownIfRemoved(wrap) {
  // Called when Streamlit unmounts the component, but also when a stale call is cancelled while
  // the element lives on; only purge once the node has really left the document.
  setTimeout(() => {
    const st = wrap.__lumbar3d;
    if (!st || wrap.isConnected) return;
    // The camera keeps easing for a few frames after the last plotly_relayout: store the
    // final one for a later remount (same key) before the scene is destroyed.
    if (st.plotted) {
      try { rememberCamera(st); } catch (e) { /* scene already gone */ }
    }
    clearTimeout(st.cameraTimer);
    st.resizeObserver?.disconnect();
    st.removeWindowListeners?.();
    if (window.Plotly && st.plotted) window.Plotly.purge(st.gd);  // frees the WebGL context
    wrap.__lumbar3d = null;
  }, 0);
}

export default function (component) {
  const { data, setStateValue, setTriggerValue, parentElement } = component;
  if (!data) return;
  let wrap = parentElement.querySelector(":scope > .lumbar-3d-wrap");
  if (!wrap || !wrap.__lumbar3d) {
    wrap?.remove();
    wrap = document.createElement("div");
    wrap.className = "lumbar-3d-wrap";
    const gd = document.createElement("div");
    gd.className = "lumbar-3d";
    gd.id = "lumbar-3d-" + String(data.key).replace(/[^A-Za-z0-9_-]/g, "_");
    gd.setAttribute("data-testid", "lumbar-3d");
    gd.setAttribute("role", "img");
    const msg = document.createElement("p");
    msg.className = "lumbar-3d-fallback";
    msg.setAttribute("role", "status");
    msg.hidden = true;
    wrap.append(gd, msg);
    parentElement.appendChild(wrap);
    wrap.__lumbar3d = { wrap, gd, msg, plotted: false, busy: false, dirty: false };
  }
  const st = wrap.__lumbar3d;
  st.api = { setStateValue, setTriggerValue };
  st.latest = data;
  st.dirty = true;
  st.gd.style.height = data.height + "px";
  st.gd.setAttribute("aria-label", data.ariaLabel);
  if (!hasWebGL()) {
    showMessage(st, data.fallbackText);
  } else {
    pump(st);
  }
  return () => teardownIfRemoved(wrap);
}
"""

_JS_RENDERED = _JS.replace("__TOL__", str(CLICK_TOLERANCE_PX)).replace(
    "__DEBOUNCE__", str(CAMERA_REPORT_DEBOUNCE_MS)
)

# Registered once per process; CCv2 re-registers it on the active runtime when needed.
_viewer_component = st.components.v2.component(
    COMPONENT_NAME, css=_CSS, js=_JS_RENDERED, isolate_styles=False
)

# Plotly modebar/config. toImage (camera icon) stays: teachers save pictures for slides.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": True,
    "displayModeBar": True,
    # plotly.js 4 shows a "Share chart..." button that uploads the figure to Plotly Cloud by
    # default: never offer that (offline app, student data stays local).
    "showSendToCloud": False,
    "plotlyServerURL": "",
    # "last save" is plotly's internal notion and is confusing here; "reset to default" stays.
    "modeBarButtonsToRemove": ["resetCameraLastSave3d"],
    "toImageButtonOptions": {"format": "png", "filename": "lumbar-spine", "scale": 2},
}


# --------------------------------------------------------------------------- static plotly.js
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


def _ensure_static_once() -> None:
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


def describe_figure(figure: Figure) -> str:
    """Default screen-reader description of the scene: the structures shown.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Scene figure.

    Returns
    -------
    str
        One sentence listing the visible structures, plus how to interact.
    """
    names = [str(t.name) for t in figure.data if t.name]
    if not names:
        return "3D model of the lumbar spine: no structures are shown."
    return (
        f"3D model of the lumbar spine showing {len(names)} structures: {', '.join(names)}. "
        "Drag to rotate, scroll to zoom, click a structure to select it."
    )


def _noop() -> None:
    """CCv2 only surfaces a trigger/state key that has an ``on_<key>_change`` callback."""


# --------------------------------------------------------------------------- public API
def spine_viewer(
    figure: Figure,
    *,
    camera_request: Mapping[str, Any] | None,
    camera_request_id: int,
    key: str,
    height_px: int,
    description: str | None = None,
    report_camera: bool = False,
    on_click: Callable[[], None] | None = None,
) -> ViewerEvent | None:
    """Show the 3D scene and return the structure clicked in this run, if any.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Scene from :func:`explorer.render.scene3d.build_scene_figure`.
    camera_request : mapping or None
        Camera to apply when ``camera_request_id`` changes (a preset view), else ignored.
    camera_request_id : int
        Increase it to apply ``camera_request`` again; while it stays the same the person's own
        rotation is kept across reruns.
    key : str
        Streamlit key. Required and must stay constant: it keeps the same DOM element (and
        WebGL context) across reruns.
    height_px : int
        Height of the viewer in pixels (the width fills the container).
    description : str or None
        Text alternative (``aria-label``) for screen readers; defaults to a list of the
        structures shown (:func:`describe_figure`).
    report_camera : bool, default False
        Also send the camera to Python after each rotation (debounced). Off by default: every
        report triggers a script rerun. The camera persists in the browser either way.
    on_click : callable or None
        Streamlit callback run before the rerun a click causes (so state it sets is seen by
        widgets drawn above the viewer). Inside it, ``st.session_state[key].clicked`` is the
        ``{"id", "name"}`` of the clicked structure.

    Returns
    -------
    ViewerEvent or None
        The clicked structure (only in the rerun the click caused), else ``None``.
    """
    _ensure_static_once()
    data: dict[str, Any] = {
        "figure": figure_to_json(figure),
        "cameraRequest": dict(camera_request) if camera_request is not None else None,
        "cameraRequestId": int(camera_request_id),
        "key": key,
        "height": int(height_px),
        "ariaLabel": description or describe_figure(figure),
        "plotlyUrl": plotly_url(),
        "config": PLOTLY_CONFIG,
        "reportCamera": bool(report_camera),
        "fallbackText": FALLBACK_TEXT,
        "loadErrorText": LOAD_ERROR_TEXT,
        "renderErrorText": RENDER_ERROR_TEXT,
    }
    callbacks: dict[str, Any] = {"on_clicked_change": on_click or _noop}
    if report_camera:
        callbacks["on_camera_change"] = _noop
    result = _viewer_component(key=key, data=data, width="stretch", height="content", **callbacks)
    camera = result.get("camera") if report_camera else None
    clicked = result.get("clicked")
    if isinstance(clicked, dict) and clicked.get("id"):
        return ViewerEvent(
            structure_id=str(clicked["id"]),
            structure_name=str(clicked.get("name", "")),
            camera=camera if isinstance(camera, dict) else None,
        )
    return None


def reported_camera(key: str) -> dict[str, Any] | None:
    """Last camera reported by the viewer with ``key`` (needs ``report_camera=True``).

    Parameters
    ----------
    key : str
        The viewer's Streamlit key.

    Returns
    -------
    dict or None
        Plotly camera dict (``eye``, ``up``, ``center``, ``projection``), or ``None``.
    """
    state = st.session_state.get(key)
    camera = state.get("camera") if isinstance(state, dict) else None
    return json.loads(json.dumps(camera)) if isinstance(camera, dict) else None
