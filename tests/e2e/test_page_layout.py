"""The first screen at a laptop, a projector and a phone: what fits without scrolling (issue 11).

Measured in Chromium with no button pressed, each condition opened from a link:

- at 1366x768 and 1920x1080 at least 90% of the 3D view lies in the first screen and the body
  chart is beside it (mostly visible), with the title near the top (no empty band above it);
- at 390x844 (a phone) the sidebar starts collapsed and the 3D view starts in the first screen;
- a patient's page is much shorter than before (8,200 px at 1366x768 and 15,800 px on a phone
  were measured before this layout), with "What this means for you" in the first screen at
  the desktop sizes.

The figures are printed (run with ``-s``) and screenshots saved to test-artifacts/.
"""

from __future__ import annotations

import pytest
from app_page import CHART, GRAPH, LOAD_TIMEOUT_MS, SCRIPT_NOT_RUNNING_JS

pytestmark = pytest.mark.e2e

MIN_VIEW_IN_FIRST_SCREEN = 0.90
MIN_CHART_IN_FIRST_SCREEN = 0.75
MAX_TITLE_TOP_PX = 80  # was about 108 px, with an empty band of about 190 px above the title text
# A patient's page before this layout: 9,760 px at 1366x768 and 15,800 px at 390x844 (measured
# with the same script on the herniation page). The layout must at least halve them.
MAX_PATIENT_PAGE_PX = {(1366, 768): 4_900, (390, 844): 7_900}

MEASURE_JS = f"""() => {{
    const vh = window.innerHeight;
    const box = sel => {{ const el = document.querySelector(sel); return el ? el.getBoundingClientRect() : null; }};
    const inFirst = b => b && b.height > 0 ? Math.max(0, Math.min(b.bottom, vh) - Math.max(b.top, 0)) / b.height : 0;
    const view = box('{GRAPH}'), chart = box('{CHART}'), title = box('h1');
    const words = [...document.querySelectorAll('h2')].find(h => h.textContent.trim() === 'What this means for you');
    const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const sb = sidebar ? sidebar.getBoundingClientRect() : null;
    return {{
        view_in_first: inFirst(view), view_top: view && view.top, view_height: view && view.height,
        chart_in_first: inFirst(chart), chart_left: chart && chart.left, view_right: view && view.right,
        title_top: title && title.top,
        words_top: words ? words.getBoundingClientRect().top : null,
        page_height: Math.max(main.scrollHeight, document.documentElement.scrollHeight),
        sidebar_visible_px: sb ? Math.max(0, Math.min(sb.right, window.innerWidth) - Math.max(sb.left, 0)) : 0,
    }};
}}"""


def _measure(browser, app_url: str, width: int, height: int, query: str, shot=None) -> dict:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/?{query}", wait_until="domcontentloaded")
        page.wait_for_selector(f"{GRAPH} canvas", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_timeout(2000)  # late layout: fonts, the chart's own height
        figures = page.evaluate(MEASURE_JS)
        if shot is not None:
            page.screenshot(path=str(shot))
        print(f"{width}x{height} ?{query}: " + ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
        return figures
    finally:
        context.close()


@pytest.mark.parametrize("width,height,query", [
    (1366, 768, "condition=herniation"),
    (1366, 768, "condition=stenosis&level=L5-S1&audience=educator"),
    (1920, 1080, "condition=herniation&audience=educator"),
    (1920, 1080, "condition=spondylolisthesis&audience=student"),
])
def test_view_and_chart_fit_the_first_screen_on_a_desktop(browser, app_url, artifacts_dir, width, height, query):
    shot = artifacts_dir / f"layout-{width}x{height}-{query.split('&')[0].split('=')[1]}.png"
    m = _measure(browser, app_url, width, height, query, shot)
    assert m["title_top"] is not None and m["title_top"] <= MAX_TITLE_TOP_PX, m
    assert m["view_in_first"] >= MIN_VIEW_IN_FIRST_SCREEN, m
    assert m["chart_in_first"] >= MIN_CHART_IN_FIRST_SCREEN, m
    assert m["chart_left"] >= m["view_right"] - 1, "the body chart sits beside the 3D view"
    assert m["sidebar_visible_px"] > 200, "the sidebar is open on a desktop"


@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_patient_first_screen_has_the_picture_and_plain_words(browser, app_url, artifacts_dir, width, height):
    m = _measure(browser, app_url, width, height, "condition=herniation&audience=patient",
                 artifacts_dir / f"layout-{width}x{height}-patient.png")
    assert m["view_in_first"] >= MIN_VIEW_IN_FIRST_SCREEN, m
    assert m["chart_in_first"] >= MIN_CHART_IN_FIRST_SCREEN, m
    assert m["words_top"] is not None and m["words_top"] < height / 3, "'What this means for you' beside the picture"
    if (width, height) in MAX_PATIENT_PAGE_PX:
        assert m["page_height"] <= MAX_PATIENT_PAGE_PX[(width, height)], m


def test_phone_starts_with_the_sidebar_collapsed_and_the_view_on_screen(browser, app_url, artifacts_dir):
    m = _measure(browser, app_url, 390, 844, "condition=herniation&audience=patient",
                 artifacts_dir / "layout-390x844-patient.png")
    assert m["sidebar_visible_px"] == 0, "the sidebar must not cover the page on a phone's first load"
    assert m["title_top"] <= MAX_TITLE_TOP_PX, m
    assert m["view_top"] < 844 / 4 and m["view_in_first"] >= 0.6, m
    assert m["words_top"] is not None, "the plain words follow the picture on a phone"
    assert m["page_height"] <= MAX_PATIENT_PAGE_PX[(390, 844)], m


ROOT_STYLE_JS = f"""(id) => JSON.stringify((document.querySelector('{GRAPH}')?.data || [])
    .filter(t => t.meta === id)
    .map(t => [t.color, t.opacity, t.intensity && t.intensity.length,
               // nerves always carry a highlight array now (zeros when not lit): compare its values too
               t.intensity && t.intensity.length ? Array.from(t.intensity).reduce((a, b) => a + Number(b), 0).toFixed(3) : null,
               t.vertexcolor && t.vertexcolor.length, t.facecolor && t.facecolor.length]))"""


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{GRAPH} canvas", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1500)


def test_symptoms_light_the_best_root_in_3d(browser, app_url, artifacts_dir):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        _open(page, f"{app_url}/?mode=symptoms")
        before = page.evaluate(ROOT_STYLE_JS, "root-L5-left")
        other_before = page.evaluate(ROOT_STYLE_JS, "root-L3-right")
        page.get_by_role("button", name="L5, left").click()
        page.wait_for_timeout(400)
        page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(f"(b) => ({ROOT_STYLE_JS})('root-L5-left') !== b", arg=before, timeout=LOAD_TIMEOUT_MS)
        after = page.evaluate(ROOT_STYLE_JS, "root-L5-left")
        print(f"root-L5-left style before {before}, after marking the L5 pattern {after}")
        assert after != before, "marking the L5 pattern must light the left L5 root"
        assert page.evaluate(ROOT_STYLE_JS, "root-L3-right") == other_before, "a root that does not fit stays neutral"
        page.locator('[data-testid="stMain"]').evaluate("el => el.scrollTo(0, 0)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts_dir / "layout-symptoms-L5-left.png"))
    finally:
        context.close()


def test_educator_link_opens_in_the_same_tab_and_keeps_the_audience(browser, app_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        _open(page, f"{app_url}/?condition=herniation&audience=educator")
        page.get_by_role("tab", name="Show it in the app").click()
        button = page.get_by_role("button", name="Foraminal L4-L5").first
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_timeout(400)
        page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function("() => location.search.includes('zone=foraminal')", timeout=LOAD_TIMEOUT_MS)
        assert len(context.pages) == 1, "no new tab"
        assert "audience=educator" in page.url, page.url
    finally:
        context.close()
