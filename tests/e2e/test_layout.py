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
