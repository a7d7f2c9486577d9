"""Hover labels and clicks on 3D structures with Plotly's pick pass deferred (gl_workarounds.js,
``deferPickPass``): after a condition change made in the sidebar (the pointer away from the view),
the picking buffer is neither drawn nor read back; when the pointer (or keyboard focus) comes over
the view it is, and hovering and clicking a structure give what Plotly's own pick pass gives (the
same page with the workaround switched off, same point, same change).
"""

from __future__ import annotations

import io

import pytest
from app_page import GRAPH, LOAD_TIMEOUT_MS, open_viewer, wait_for_rerun

pytestmark = pytest.mark.e2e

START = "condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate"
VIEWPORT = {"width": 1366, "height": 768}
# Points to try over the view (fractions of the graph's box), in order: the first that hovers a
# structure is used; the same list for both pages.
CANDIDATES = [(0.5, 0.5), (0.5, 0.4), (0.5, 0.6), (0.45, 0.5), (0.55, 0.5), (0.5, 0.3), (0.5, 0.7), (0.4, 0.45),
              (0.6, 0.55)]

HOOK_JS = f"""() => {{
  const gd = document.querySelector('{GRAPH}');
  window.__hovered = null;
  gd.on('plotly_hover', (ev) => {{
    const t = ev.points[0].data;
    window.__hovered = {{meta: String(t.meta), template: String(t.hovertemplate || t.name || '')}};
  }});
  gd.on('plotly_unhover', () => {{ window.__hovered = null; }});
}}"""
STATS_JS = "() => Object.assign({}, window.__lumbar3d.pickStats || {})"
SEQ_JS = f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0)"
LABEL_JS = f"() => document.querySelector('{GRAPH} .hovertext')?.textContent || ''"


def _change_zone(page) -> None:
    """A condition change made in the sidebar, the pointer resting on the sidebar."""
    page.mouse.move(5, 5)
    seq = page.evaluate(SEQ_JS)
    page.locator('[data-testid="stSidebar"]').get_by_text("Foraminal", exact=True).first.click()
    page.mouse.move(5, 5)
    wait_for_rerun(page)
    page.wait_for_function(f"() => ({SEQ_JS})() > {seq}", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the frame (software WebGL) and the pick pass's read-back after it


def _hover_and_click(page) -> tuple[tuple[float, float], dict, str, str]:
    """Hover the first candidate point that shows a structure; click it there. Returns the point,
    the hovered trace, the hover label's text and the structure the click selected (the URL)."""
    box = page.locator(GRAPH).bounding_box()
    for fx, fy in CANDIDATES:
        x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        page.mouse.move(x - 3, y - 3)
        page.mouse.move(x, y)
        try:
            page.wait_for_function("() => window.__hovered !== null", timeout=4000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: nothing under this point
            continue
        page.wait_for_function(f"() => ({LABEL_JS})().length > 0", timeout=4000)
        hovered, label = page.evaluate("() => window.__hovered"), page.evaluate(LABEL_JS)
        page.mouse.down()
        page.wait_for_timeout(80)
        page.mouse.up()
        page.wait_for_function("() => location.search.includes('selected=')", timeout=LOAD_TIMEOUT_MS)
        selected = dict(p.split("=", 1) for p in page.url.split("?", 1)[1].split("&"))["selected"]
        return (fx, fy), hovered, label, selected
    pytest.fail(f"no structure hovered at any of {CANDIDATES} of the 3D view")


def _graph_png(page) -> bytes:
    return page.locator(GRAPH).screenshot()


def _steady_graph_png(page) -> bytes:
    """The 3D view once two screenshots 0.7 s apart are the same (the camera may still ease)."""
    last = _graph_png(page)
    for _ in range(20):
        page.wait_for_timeout(700)
        shot = _graph_png(page)
        if _pixels_differ(last, shot) == 0:
            return shot
        last = shot
    pytest.fail("the 3D view never stood still")


def _pixels_differ(a: bytes, b: bytes) -> int:
    import numpy as np
    from PIL import Image

    pa, pb = (np.asarray(Image.open(io.BytesIO(x)).convert("RGB"), dtype=np.int16) for x in (a, b))
    return int((np.abs(pa - pb).max(axis=2) > 2).sum())


def test_hover_and_click_after_a_change_with_the_pick_pass_deferred(browser, app_url, artifacts_dir):
    results = {}
    for mode in ("deferred", "plotly"):
        context = browser.new_context(viewport=VIEWPORT)
        if mode == "plotly":
            context.add_init_script("window.localStorage.setItem('lumbar.no_workarounds', 'deferPickPass')")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        try:
            open_viewer(page, f"{app_url}/?{START}")
            wait_for_rerun(page)
            page.evaluate(HOOK_JS)
            before = page.evaluate(STATS_JS)
            _change_zone(page)
            after = page.evaluate(STATS_JS)
            if mode == "deferred":
                # The change's pick pass was recorded, not drawn, and its read-back skipped.
                assert after.get("deferred", 0) > before.get("deferred", 0), (before, after)
                assert after.get("readsSkipped", 0) > before.get("readsSkipped", 0), (before, after)
                assert after.get("reads", 0) == before.get("reads", 0), "no read-back while the pointer is away"
                assert after.get("drawsSkipped", 0) >= after.get("deferred", 0)
                # Drawing it late leaves the picture on screen as it was (taken once it stands still).
                shot = _steady_graph_png(page)
                assert page.evaluate(
                    f"() => document.querySelector('{GRAPH}')._fullLayout.scene._scene.glplot.__lumbarPick.refresh()"
                ), "a deferred pass was waiting"
                page.wait_for_timeout(700)
                assert page.evaluate(STATS_JS).get("redrawn", 0) > after.get("redrawn", 0)
                later = _graph_png(page)
                differ = _pixels_differ(shot, later)
                if differ:
                    (artifacts_dir / "e2e-pick-before-late-pass.png").write_bytes(shot)
                    (artifacts_dir / "e2e-pick-after-late-pass.png").write_bytes(later)
                assert differ == 0, f"the late pick pass changed {differ} pixels of the picture on screen"
                # A second change, to hover and click after (the pass deferred again).
                page.get_by_text("Paracentral (subarticular)", exact=True).first.click()
                page.mouse.move(5, 5)
                wait_for_rerun(page)
                page.wait_for_timeout(1500)
                again = page.evaluate(STATS_JS)
                assert again.get("deferred", 0) > after.get("deferred", 0)
                # Keyboard focus coming into the view (a modebar button) draws the pass too.
                page.locator(f"{GRAPH} .modebar-btn").first.focus()
                page.wait_for_timeout(300)
                focused = page.evaluate(STATS_JS)
                assert focused.get("redrawn", 0) > again.get("redrawn", 0), "focus in the view drew the pass"
                page.evaluate("() => document.activeElement.blur()")
                redrawn = focused.get("redrawn", 0)
                _change_zone(page)
                assert page.evaluate(STATS_JS).get("deferred", 0) > focused.get("deferred", 0), "deferred again"
            else:
                assert after == {}, f"switched off: nothing deferred ({after})"
            point, hovered, label, selected = _hover_and_click(page)
            first_line = hovered["template"].replace("<extra></extra>", "").split("<br>")[0].strip()
            assert first_line and first_line in label, (label, hovered)
            assert selected == hovered["meta"], f"clicked {selected}, hovered {hovered['meta']}"
            if mode == "deferred":
                assert page.evaluate(STATS_JS).get("redrawn", 0) > redrawn, "the pointer's arrival drew the pass"
            page.screenshot(path=str(artifacts_dir / f"e2e-pick-{mode}.png"))
            assert not [e for e in errors if "lumbar" in e.lower() or "webgl" in e.lower()], errors
            results[mode] = (point, hovered["meta"], selected)
        finally:
            context.close()
    assert results["deferred"] == results["plotly"], results
