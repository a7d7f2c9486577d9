"""The app in a real headless Chromium against `streamlit run`: what a person sees."""

from __future__ import annotations

import time

import pytest
from app_page import CAMERA_JS, GRAPH, LIT_IDS_JS, LOAD_TIMEOUT_MS, camera_distance, settled_camera, wait_for_rerun

pytestmark = pytest.mark.e2e

TRACE_IDS_JS = f"() => (document.querySelector('{GRAPH}')?.data || []).map(t => t.meta)"
TRACE_NAMES_JS = f"() => (document.querySelector('{GRAPH}')?.data || []).map(t => t.name)"


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{GRAPH} canvas", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).length > 20",
                           timeout=LOAD_TIMEOUT_MS)


def test_first_load_draws_the_model(page, app_url, artifacts_dir):
    started = time.perf_counter()
    _open(page, app_url)
    elapsed = time.perf_counter() - started
    ids = page.evaluate(TRACE_IDS_JS)
    names = page.evaluate(TRACE_NAMES_JS)
    for expected in ("vertebra-L1", "vertebra-L5", "sacrum", "disc-L4-L5", "nucleus-L5-S1",
                     "root-L5-left", "root-S1-right", "sciatic-left", "piriformis-right", "thecal-sac"):
        assert expected in ids
    assert "L4 vertebra" in names and "L5 nerve root (left)" in names
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("For education only").count() >= 1
    # The chart has a text equivalent.
    assert "lower back" in (page.locator(GRAPH).get_attribute("aria-label") or "")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts_dir / "e2e-first-load.png"))
    assert page.outside_requests == [], "the app must not reach the network"  # type: ignore[attr-defined]
    print(f"first 3D paint after {elapsed:.1f} s (page already served)")


def test_layer_switch_and_camera_stays(page, app_url, artifacts_dir):
    _open(page, app_url)
    box = page.locator(f"{GRAPH} canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before_drag = settled_camera(page)
    page.mouse.move(cx, cy)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(cx + 18 * step, cy + 4 * step)
        page.wait_for_timeout(30)
    page.mouse.up()
    rotated = settled_camera(page)
    assert camera_distance(rotated, before_drag) > 0.05, "the drag should rotate the camera"

    page.get_by_text("Spine bones", exact=True).click()
    wait_for_rerun(page)
    page.wait_for_function(f"() => !(document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'vertebra-L4')",
                           timeout=LOAD_TIMEOUT_MS)
    after = settled_camera(page)
    assert camera_distance(after, rotated) < 1e-3, "changing layers must not reset the camera"
    assert "layers=" in page.url
    page.screenshot(path=str(artifacts_dir / "e2e-bones-hidden-rotated.png"))


def test_preset_view_moves_camera(page, app_url):
    _open(page, app_url)
    page.get_by_text("From above", exact=True).click()
    wait_for_rerun(page)
    page.wait_for_function(f"""() => {{
        const c = ({CAMERA_JS})();
        return c && c.eye.z > 2 * Math.abs(c.eye.x) + 1;
    }}""", timeout=LOAD_TIMEOUT_MS)
    assert "view=superior" in page.url


def test_shared_and_bad_links(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/?layers=bones,nerves&selected=root-L5-left")
    ids = page.evaluate(TRACE_IDS_JS)
    assert "disc-L4-L5" not in ids and "root-L5-left" in ids
    assert page.get_by_text("L5 nerve root (left)").count() >= 1
    _open(page, f"{app_url}/?view=sideways")
    assert page.get_by_text("Unknown view 'sideways'").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts_dir / "e2e-bad-link.png"))


def _drag(page, dx: float, dy: float) -> dict:
    """Rotate the 3D view with a mouse drag from its centre; returns the settled camera."""
    box = page.locator(f"{GRAPH} canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(cx + dx * step, cy + dy * step)
        page.wait_for_timeout(30)
    page.mouse.up()
    return settled_camera(page)


def test_condition_highlights_the_squeezed_root_and_moves_the_camera_to_its_story(page, app_url, artifacts_dir):
    """Issue 11: a condition or parameter change brings the camera to that condition's story view;
    any other change (a layer, the audience) leaves it where the person put it."""
    query = "condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate"
    _open(page, f"{app_url}/?{query}")
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'lesion-disc')",
                           timeout=LOAD_TIMEOUT_MS)
    highlighted = page.evaluate(LIT_IDS_JS)
    assert "root-L5-left" in highlighted and "root-L4-left" not in highlighted
    assert page.get_by_text("What is squeezed").count() >= 1  # the summary, and the texts' section
    assert page.get_by_text("traversing L5 root", exact=False).count() >= 1
    page.screenshot(path=str(artifacts_dir / "e2e-herniation.png"))

    # Rotate, then change things that are not the condition: the camera stays where the person left it.
    story = settled_camera(page)
    rotated = _drag(page, -15, 3)
    assert camera_distance(rotated, story) > 0.05, "the drag should rotate the camera"
    page.get_by_text("Muscles", exact=True).click()
    wait_for_rerun(page)
    assert camera_distance(settled_camera(page), rotated) < 1e-3, "a layer change must not move the camera"
    page.locator('[data-testid="stSidebar"]').get_by_text("Educator", exact=True).click()
    wait_for_rerun(page)
    assert "audience=educator" in page.url
    assert camera_distance(settled_camera(page), rotated) < 1e-3, "an audience change must not move the camera"

    # A parameter change: the camera comes to the new state's story view, the one its link opens at.
    page.get_by_text("Foraminal", exact=True).click()
    wait_for_rerun(page)
    page.wait_for_function(f"() => ({LIT_IDS_JS})().includes('root-L4-left')", timeout=LOAD_TIMEOUT_MS)
    assert "zone=foraminal" in page.url
    moved = settled_camera(page)
    assert camera_distance(moved, rotated) > 0.05, "a parameter change must bring the camera to its story view"
    _open(page, page.url)
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'lesion-disc')",
                           timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    linked = settled_camera(page)
    assert camera_distance(moved, linked) < 1e-3, (moved, linked)
