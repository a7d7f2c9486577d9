"""What the end-to-end tests share about the app's page: selectors, scripts and waits."""

from __future__ import annotations

import math

GRAPH = '[data-testid="lumbar-3d"]'
# Ids of the 3D traces lit now. Nerves always carry a highlight array (zeros when not lit, so
# their trace ids stay stable), as a plain array, a typed array or a {dtype, bdata} spec.
LIT_IDS_JS = """() => {
  const values = (a) => {
    if (!a) return [];
    if (Array.isArray(a) || ArrayBuffer.isView(a)) return Array.from(a);
    if (typeof a.bdata === 'string') {
      const bytes = Uint8Array.from(atob(a.bdata), (c) => c.charCodeAt(0));
      const kinds = {f4: Float32Array, f8: Float64Array, u1: Uint8Array, i1: Int8Array, u2: Uint16Array,
                     i2: Int16Array, u4: Uint32Array, i4: Int32Array};
      const Kind = kinds[a.dtype] || Float64Array;
      return Array.from(new Kind(bytes.buffer));
    }
    return [];
  };
  return (document.querySelector('[data-testid="lumbar-3d"]')?.data || [])
    .filter((t) => values(t.intensity).some((v) => Number(v) > 0)).map((t) => t.meta);
}"""
CHART = '[data-testid="body-chart"]'
LOAD_TIMEOUT_MS = 90_000

# The live 3D camera (the scene's own, current even while it eases after a drag).
CAMERA_JS = f"""() => {{
    const gd = document.querySelector('{GRAPH}');
    const scene = gd && gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    return scene ? scene.getCamera() : null;
}}"""
SCRIPT_NOT_RUNNING_JS = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState !== 'running'"
)


def wait_for_rerun(page, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the script run the last action caused."""
    page.wait_for_timeout(400)
    page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=timeout_ms)
    page.wait_for_timeout(800)


def camera_distance(a: dict, b: dict) -> float:
    return math.dist([a["eye"][k] for k in "xyz"], [b["eye"][k] for k in "xyz"])


def settled_camera(page) -> dict:
    """The live camera once it stops easing (software WebGL draws at a few frames a second)."""
    last = None
    for _ in range(40):
        cam = page.evaluate(CAMERA_JS)
        if last is not None and camera_distance(cam, last) < 1e-6:
            return cam
        last = cam
        page.wait_for_timeout(250)
    return last


# ---- the 3D view's wrapper, the page's scroll position, and the viewing distance
VIEWER_WRAP = ".lumbar-3d-wrap"
# Streamlit scrolls its main area (stMain), not the window.
PAGE_SCROLL_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return main ? main.scrollTop : (document.scrollingElement || document.documentElement).scrollTop;
}"""
SCROLL_TO_TOP_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    (main || document.scrollingElement || document.documentElement).scrollTop = 0;
}"""
SET_SCROLL_JS = """(top) => {
    const main = document.querySelector('[data-testid="stMain"]');
    (main || document.scrollingElement || document.documentElement).scrollTop = top;
}"""


def open_viewer(page, url: str, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Open ``url`` and wait until the 3D view has drawn the model and the script is idle."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1",
                           timeout=timeout_ms)
    page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=timeout_ms)


def pick_condition(page, label: str) -> None:
    """Choose the condition named ``label`` in the sidebar's Condition selectbox (a rerun follows)."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Condition").click()
    page.get_by_role("option", name=label).click()


def eye_distance(camera: dict) -> float:
    """Distance from the camera's eye to the point it looks at (Plotly's normalised units)."""
    center = camera.get("center") or {"x": 0.0, "y": 0.0, "z": 0.0}
    return math.dist([camera["eye"][k] for k in "xyz"], [center[k] for k in "xyz"])


def page_scroll(page) -> float:
    return float(page.evaluate(PAGE_SCROLL_JS))


def show_viewer(page) -> float:
    """Scroll the 3D view to the middle of the screen (whole, if it fits); returns the scroll position."""
    page.evaluate(f"() => document.querySelector('{GRAPH}').scrollIntoView({{block: 'center'}})")
    page.wait_for_timeout(400)
    return page_scroll(page)


def set_page_scroll(page, top: float) -> None:
    page.evaluate(SET_SCROLL_JS, top)
    page.wait_for_timeout(300)


def close_sidebar_if_open(page) -> None:
    """On a narrow screen an open sidebar covers the page; close it (its collapse button)."""
    box = page.locator('[data-testid="stSidebar"]').bounding_box()
    if box and box["x"] + box["width"] > 1 and box["width"] > 1:  # on screen
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
        page.wait_for_timeout(800)


def frames_on_and_off(browser, app_url: str, states: list[str], workaround: str, frame_js: str,
                      viewport: dict, console_kinds: tuple[str, ...], about: tuple[str, ...]) -> dict[str, list[dict]]:
    """Each state's whole WebGL frame (``frame_js``, e.g. :func:`benchmarks.gl_frames.whole_frame_js`) as the
    viewer draws it with ``workaround`` on and, in a context of its own, switched off (the viewer's
    ``lumbar.no_workarounds`` switch): ``{"workaround": [...], "plotly": [...]}``, one frame per state.
    Fails if the console says anything of ``console_kinds`` that mentions one of ``about``."""
    frames: dict[str, list[dict]] = {}
    for mode in ("workaround", "plotly"):
        context = browser.new_context(viewport=viewport)
        if mode == "plotly":
            context.add_init_script(f"window.localStorage.setItem('lumbar.no_workarounds', '{workaround}')")
        page = context.new_page()
        said: list[str] = []
        page.on("console", lambda m, said=said: said.append(m.text) if m.type in console_kinds else None)
        try:
            frames[mode] = []
            for state in states:
                open_viewer(page, f"{app_url}/?{state}")
                wait_for_rerun(page)
                page.wait_for_timeout(1500)  # the story camera's last frames
                frames[mode].append(page.evaluate(frame_js))
            assert not [s for s in said if any(word in s.lower() for word in about)], said
        finally:
            context.close()
    return frames
