"""The body chart, the symptoms-to-cause mode and the texts, in real Chromium against `streamlit run`."""

from __future__ import annotations

import json

import pytest
from app_page import CHART, GRAPH, LOAD_TIMEOUT_MS, wait_for_rerun

pytestmark = pytest.mark.e2e

# What each condition must show: a link, roots the findings name, and words in the summary.
CONDITION_CASES = {
    "herniation": ("condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate", "L5", "left"),
    "stenosis": ("condition=stenosis&level=L4-L5&zone=foraminal&side=right&severity=moderate", "L4", "right"),
    "spondylolisthesis": ("condition=spondylolisthesis&level=L5-S1&type=isthmic&grade=2", "L5", "left"),
    "piriformis": ("condition=piriformis&side=left&severity=severe", "sciatic", "left"),
    "cauda_equina": ("condition=cauda_equina&level=L4-L5", "S2", "right"),
}
PAINTED_JS = f"""() => (document.querySelector('{CHART}')?.data || [])
    .filter(t => typeof t.meta === 'string' && t.meta.includes(':') && String(t.fillcolor).startsWith('rgba'))
    .map(t => t.meta)"""
HIGHLIGHTED_JS = f"""() => (document.querySelector('{GRAPH}')?.data || [])
    .filter(t => t.intensity !== undefined && t.intensity !== null).map(t => t.meta)"""


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{GRAPH} canvas", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(f"{CHART} svg.bc-svg", timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _click_chart_point(page, x: float, y: float) -> None:
    """Click the chart at data coordinates (x, y): the plot group maps chart units (x, -y) to the
    screen (explorer/frontend/bodychart_svg.js)."""
    box = page.evaluate(f"""([x, y]) => {{
        const plot = document.querySelector('{CHART} .bc-plot');
        const p = new DOMPoint(x, -y).matrixTransform(plot.getScreenCTM());
        return [p.x, p.y];
    }}""", [x, y])
    page.mouse.move(box[0], box[1])
    page.wait_for_timeout(300)
    page.mouse.click(box[0], box[1])


def _hover_text(page) -> str | None:
    """The chart's hover label, or None when none is shown."""
    return page.evaluate(f"""() => {{
        const tip = document.querySelector('{CHART} .bc-hover');
        return tip && !tip.hidden ? tip.innerText : null;
    }}""")


def test_first_load_shows_the_dermatome_chart(page, app_url, artifacts_dir):
    _open(page, app_url)
    metas = page.evaluate(f"() => (document.querySelector('{CHART}').data || []).map(t => t.meta)")
    assert sum(1 for m in metas if isinstance(m, str) and m.startswith("front:")) > 20
    assert sum(1 for m in metas if isinstance(m, str) and m.startswith("back:")) > 20
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "dermatomes" in page.locator(CHART).get_attribute("aria-label")
    page.screenshot(path=str(artifacts_dir / "e2e-chart-first-load.png"))


@pytest.mark.parametrize("condition", list(CONDITION_CASES))
def test_every_condition_paints_chart_highlight_and_findings(page, app_url, artifacts_dir, condition):
    query, root, side = CONDITION_CASES[condition]
    _open(page, f"{app_url}/?{query}")
    painted = page.evaluate(PAINTED_JS)
    assert painted, "the chart paints the symptoms"
    assert any(f":{side}:" in m for m in painted)
    assert page.evaluate(HIGHLIGHTED_JS), "the squeezed structure is highlighted in 3D"
    text = _main_text(page)
    assert "What is squeezed" in text and root in text
    label = page.locator(CHART).get_attribute("aria-label")
    assert f"{side} leg" in label and root in label
    page.screenshot(path=str(artifacts_dir / f"e2e-chart-{condition}.png"))


def test_changing_the_condition_changes_summary_and_chart(page, app_url):
    _open(page, f"{app_url}/?{CONDITION_CASES['herniation'][0]}")
    before_chart, before_text = sorted(page.evaluate(PAINTED_JS)), _main_text(page)
    page.get_by_text("Foraminal", exact=True).first.click()
    wait_for_rerun(page)
    # Wait for the chart to change (compact JSON on both sides, as JSON.stringify writes it).
    page.wait_for_function(f"(before) => JSON.stringify(({PAINTED_JS})().sort()) !== before",
                           arg=json.dumps(before_chart, separators=(",", ":")), timeout=LOAD_TIMEOUT_MS)
    assert sorted(page.evaluate(PAINTED_JS)) != before_chart
    after_text = _main_text(page)
    assert after_text != before_text and "exiting L4 root" in after_text


# Counts `d` writes on the chart's trace lines and fills (drawing the outlines again would rewrite
# about 150; a change of styles none).
WATCH_CHART_PATHS_JS = f"""() => {{
    const gd = document.querySelector('{CHART}');
    window.__chartPaths = {{d: 0, seq: gd.dataset.renderSeq}};
    new MutationObserver((records) => {{
        for (const r of records) {{
            // the traces' lines and fills in the plot area (the legend draws its own samples anew)
            if (r.target.matches('.bc-line, .bc-fill') && r.target.closest('.bc-plot')) window.__chartPaths.d += 1;
        }}
    }}).observe(gd, {{subtree: true, attributes: true, attributeFilter: ['d']}});
}}"""


def test_a_change_that_keeps_the_outlined_roots_restyles_the_chart_in_place(page, app_url):
    """Moderate -> severe herniation: the same squeezed root and pain route, stronger fills. The chart
    has the same traces in every state (explorer/render/bodychart.py), so the SVG renderer sets the
    new fills instead of redrawing every outline."""
    _open(page, f"{app_url}/?{CONDITION_CASES['herniation'][0]}")
    before = sorted(page.evaluate(PAINTED_JS))
    fills = page.evaluate(f"() => document.querySelector('{CHART}').data.map(t => t.fillcolor).join('|')")
    page.evaluate(WATCH_CHART_PATHS_JS)
    page.locator('[data-testid="stSidebar"]').get_by_text("Severe (large extrusion / sequestration)", exact=True).click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"body-chart\"]').dataset.renderSeq"
                           " !== window.__chartPaths.seq", timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    after = sorted(page.evaluate(PAINTED_JS))
    assert after and set(before) <= set(after), "the same areas at least, more at a harder squeeze"
    assert page.evaluate(f"() => document.querySelector('{CHART}').data.map(t => t.fillcolor).join('|')") != fills
    assert page.evaluate("() => window.__chartPaths.d") == 0, "no outline or fill was redrawn"


def test_clicking_a_chart_area_selects_the_root_in_3d(page, app_url, artifacts_dir):
    _open(page, app_url)
    # Outer side of the patient's left lower leg, front view (leg-local u=9.5, v=25; front centre -22).
    _click_chart_point(page, -22 + 9.5, 25.0)
    # the pointer rests on the area: its hover label names it and its root (bodychart.py area_hover)
    hover = _hover_text(page)
    assert hover and "Outer side of the lower leg" in hover and "L5 dermatome" in hover, hover
    page.wait_for_function("() => location.search.includes('selected=root-L5-left')", timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    text = _main_text(page)
    assert "L5 nerve root (left)" in text and "Sources:" in text
    page.wait_for_function(f"() => (document.querySelector('{CHART}').data || [])"
                           ".some(t => t.name === 'Selected: L5 left' && t.visible !== false)", timeout=LOAD_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "e2e-chart-click-selects-root.png"))


def test_clicking_a_structure_in_3d_shows_its_name_and_explanation(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/?view=posterior&layers=bones")
    box = page.locator(f"{GRAPH} canvas").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.45
    for _ in range(3):  # software WebGL picks a frame late: hover first, then click without moving
        page.mouse.move(x, y)
        page.wait_for_timeout(1200)
        page.mouse.down()
        page.wait_for_timeout(100)
        page.mouse.up()
        try:
            page.wait_for_function("() => location.search.includes('selected=')", timeout=8000)
            break
        except Exception:  # noqa: BLE001 - retry the pick
            y += 20
    assert "selected=" in page.url
    wait_for_rerun(page)
    text = _main_text(page)
    assert "Clear selection" in text and "Sources:" in text
    page.screenshot(path=str(artifacts_dir / "e2e-3d-click-selects.png"))


def test_audience_switch_changes_the_text(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/?{CONDITION_CASES['herniation'][0]}")
    student = _main_text(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Patient", exact=True).click()
    page.wait_for_function("() => location.search.includes('audience=patient')", timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    patient = _main_text(page)
    assert patient != student
    assert "Go to the emergency department now" in patient
    page.screenshot(path=str(artifacts_dir / "e2e-patient-text.png"))


def test_symptoms_to_cause_ranks_l5_and_opens_a_cause_in_3d(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/?mode=symptoms")
    text = _main_text(page)
    assert "not a diagnosis" in text and "emergency" in text.lower()
    page.get_by_role("button", name="L5, left").click()
    wait_for_rerun(page)
    text = _main_text(page)
    ranked = text[text.index("that fit best"):]  # "Nerve roots and nerves that fit best"
    assert ranked.index("L5 root, left") < min(ranked.find(r) if r in ranked else 10**9
                                               for r in ("L4 root, left", "S1 root, left", "Sciatic nerve, left",
                                                         "sciatic nerve, left"))
    marked = page.evaluate(f"() => (document.querySelector('{CHART}').data || [])"
                           ".filter(t => t.name === 'Marked by you' && t.showlegend).length")
    assert marked == 1
    page.screenshot(path=str(artifacts_dir / "e2e-symptoms-mode.png"))
    page.get_by_role("button", name="Show Disc herniation: L4-L5, Paracentral (subarticular), Patient's left in 3D").click()
    page.wait_for_function("() => location.search.includes('condition=herniation') && !location.search.includes('mode=')",
                           timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}').data || []).some(t => t.meta === 'lesion-disc')",
                           timeout=LOAD_TIMEOUT_MS)


def test_clicking_chart_areas_in_symptoms_mode_marks_and_unmarks_them(page, app_url, artifacts_dir):
    """In the symptoms-to-cause mode a click on an area marks it (its fill turns the marks' purple
    and the legend gains "Marked by you"); a second click unmarks it."""
    _open(page, f"{app_url}/?mode=symptoms")
    marked_js = f"""() => (document.querySelector('{CHART}').data || [])
        .filter(t => t.meta === 'front:left:outer side of the lower leg').map(t => t.name.includes('Marked by you'))[0]"""
    assert page.evaluate(marked_js) is False
    _click_chart_point(page, -22 + 9.5, 25.0)
    page.wait_for_function(marked_js, timeout=LOAD_TIMEOUT_MS)
    wait_for_rerun(page)
    assert page.locator(CHART).locator("text.bc-legend-text", has_text="Marked by you").count() == 1
    page.screenshot(path=str(artifacts_dir / "e2e-symptoms-chart-click.png"))
    _click_chart_point(page, -22 + 9.5, 25.0)
    page.wait_for_function(f"() => !({marked_js})()", timeout=LOAD_TIMEOUT_MS)
