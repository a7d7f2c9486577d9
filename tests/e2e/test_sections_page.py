"""The MRI-like sections in a real browser: a student opens a link to a moderate central stenosis
at L4-L5 with the axial section on, sees the normal and the narrowed cut side by side with the
dural sac's area, switches posture and watches the area change (issue 13, "Done when"). The
orientation letters and the measurement's label sit outside the drawn cut."""

from __future__ import annotations

import re

import pytest
from app_page import LOAD_TIMEOUT_MS, SCRIPT_NOT_RUNNING_JS, wait_for_rerun
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.e2e

LINK = "?condition=stenosis&level=L4-L5&zone=central&severity=moderate&section=axial"
SECTIONS_PANEL = "Inside the canal: MRI-like sections"
AREA = re.compile(r"Dural sac area: (\d+) mm²")


def sac_areas(page) -> list[int]:
    """The dural sac areas the panel shows, in page order (normal first)."""
    return [int(a) for a in AREA.findall(page.inner_text('[data-testid="stMain"]'))]


def section_pictures(page):
    """The two section figures (Plotly divs inside the panel's charts)."""
    return page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')


BOXES_JS = """(plot) => {
    const box = (el) => { const r = el.getBoundingClientRect();
                          return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
    return {bg: box(plot.querySelector('.bglayer .bg')),
            notes: [...plot.querySelectorAll('.annotation')].map((a) => {
                const t = a.querySelector('.annotation-text');
                return {text: t.textContent, ...box(t)}; })};
}"""
EDGE_LETTERS = {"A", "P", "R", "L"}


def check_marks_outside_the_picture(picture) -> None:
    """In the browser: the orientation letters sit outside the drawn cut (they never cover
    anatomy), and the measurement's label (the sac area) is under it."""
    boxes = picture.evaluate(BOXES_JS)
    bg = boxes["bg"]
    letters = [n for n in boxes["notes"] if n["text"] in EDGE_LETTERS]
    assert {n["text"] for n in letters} == EDGE_LETTERS, boxes["notes"]
    for n in letters:
        outside = n["r"] <= bg["l"] + 1 or n["l"] >= bg["r"] - 1 or n["b"] <= bg["t"] + 1 or n["t"] >= bg["b"] - 1
        assert outside, f"orientation mark {n['text']} covers the picture: {n} inside {bg}"
    labels = [n for n in boxes["notes"] if n["text"].startswith("Sac ") and "mm²" in n["text"]]
    assert len(labels) == 1, boxes["notes"]
    assert labels[0]["t"] >= bg["b"] - 1, "the measurement label covers the picture"


def check_sections_page(page, base_url: str) -> dict[str, list[int]]:
    """Open the link, check both pictures and the areas, switch posture; return the areas seen."""
    # The sections do not need the 3D view: wait for the panel itself, not for the WebGL scene.
    page.goto(base_url + "/" + LINK, wait_until="domcontentloaded", timeout=LOAD_TIMEOUT_MS)
    heading = page.get_by_text(SECTIONS_PANEL)
    try:
        heading.wait_for(timeout=LOAD_TIMEOUT_MS)
    except PlaywrightTimeout:
        pytest.fail("no sections panel on the page: explorer/ui/page.py must call with_sections() after the "
                    "sidebar and sections_block() below the 3D view (explorer/ui/sections_panel.py)")
    page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=LOAD_TIMEOUT_MS)
    heading.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')"
                           ".length >= 2", timeout=LOAD_TIMEOUT_MS)
    pictures = section_pictures(page)
    titles = [pictures.nth(i).locator(".gtitle").text_content() for i in range(pictures.count())]
    assert "Normal" in titles and "This condition" in titles, titles
    for i in range(pictures.count()):  # each picture drew its filled cut (Plotly's scatter fills)
        assert pictures.nth(i).locator("path.js-fill").count() > 5
    for i in range(pictures.count()):
        check_marks_outside_the_picture(pictures.nth(i))
    neutral = sac_areas(page)
    assert len(neutral) == 2, neutral
    normal, narrowed = neutral
    assert narrowed < normal  # the stenosis takes room from the sac
    # The link is kept: the section is part of the shareable state.
    assert "section=axial" in page.url
    page.get_by_text("Leaning back (extension)").click()
    wait_for_rerun(page)
    page.wait_for_function("() => /Dural sac area: \\d+ mm² \\(neutral/.test("
                           "document.querySelector('[data-testid=stMain]').innerText)", timeout=LOAD_TIMEOUT_MS)
    extended = sac_areas(page)
    assert len(extended) == 2, extended
    assert extended != neutral
    assert extended[1] < narrowed  # leaning back narrows the canal (Kanbara 2014, Schmid 1999)
    assert "posture=extension" in page.url
    return {"neutral": neutral, "extension": extended}


@pytest.mark.parametrize("size", [(1366, 768)])
def test_link_opens_both_sections_with_the_sac_area_and_posture_changes_it(browser, app_url, size, artifacts_dir):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    def on_console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    try:
        check_sections_page(page, app_url)
        page.get_by_text(SECTIONS_PANEL).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "sections-stenosis-L4-L5-extension.png"))
    finally:
        context.close()
    assert not errors, errors
