"""Keyboard only: the condition, its parameters, the audience, the view presets and the layers can be
changed without a mouse (Tab to a control, arrows/Enter/Space to change it), and the URL and the
page follow.

No test here touches the mouse: focus moves with Tab from the top of the page, the way a person
using a keyboard or a switch device gets there.
"""

from __future__ import annotations

import pytest
from app_page import CAMERA_JS, GRAPH, LIT_IDS_JS, LOAD_TIMEOUT_MS

from explorer import settings

pytestmark = pytest.mark.e2e

MAX_TABS = 80

# What has focus: the widget key of its Streamlit container, its kind, and a short description.
ACTIVE_JS = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return {key: null, kind: null, desc: 'body'};
  const box = a.closest('.stElementContainer');
  const key = box ? ([...box.classList].find((c) => c.startsWith('st-key-')) || '').slice(7) || null : null;
  const kind = a.getAttribute('role') === 'combobox' ? 'combobox' : (a.type || a.tagName.toLowerCase());
  return {key, kind, desc: `${a.tagName.toLowerCase()}[${kind}] key=${key} ${a.getAttribute('aria-label') || ''}`};
}"""
ACTIVE_OPTION_JS = """() => {
  const a = document.activeElement;
  const id = a && a.getAttribute('aria-activedescendant');
  const opt = id && document.getElementById(id);
  return opt ? opt.textContent.trim() : null;
}"""
IDLE_JS = "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1",
                           timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(IDLE_JS, timeout=LOAD_TIMEOUT_MS)


def _tab_to(page, key: str, kind: str) -> None:
    """Press Tab until a `kind` control ('radio', 'combobox', 'checkbox') of widget `key` has focus."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE_JS)
        if active["key"] == key and active["kind"] == kind:
            return
        seen.append(active["desc"])
    pytest.fail(f"Tab never reached the {kind} of '{key}' in {MAX_TABS} presses; focus went: {seen}")


SEQ_JS = f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0)"


def _wait_url(page, fragment: str, redrawn_after: int | None = None) -> None:
    """Wait for `fragment` in the URL and the end of the script run (and a 3D redraw if asked)."""
    page.wait_for_function("(f) => location.search.includes(f)", arg=fragment, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(IDLE_JS, timeout=LOAD_TIMEOUT_MS)
    if redrawn_after is not None:
        page.wait_for_function(f"(n) => ({SEQ_JS})() > n", arg=redrawn_after, timeout=LOAD_TIMEOUT_MS)


def _choose_option(page, label: str) -> None:
    """In the focused selectbox (combobox): open it with ArrowDown, walk to `label`, press Enter."""
    page.keyboard.press("ArrowDown")
    page.wait_for_selector('[role="option"]', timeout=10_000)
    walked = []
    for _ in range(30):
        current = page.evaluate(ACTIVE_OPTION_JS)
        if current == label:
            page.keyboard.press("Enter")
            return
        walked.append(current)
        page.keyboard.press("ArrowDown")
    pytest.fail(f"option {label!r} not reached with ArrowDown; walked {walked}")


def _highlighted(page, structure_id: str) -> None:
    page.wait_for_function(f"(sid) => ({LIT_IDS_JS})().includes(sid)", arg=structure_id, timeout=LOAD_TIMEOUT_MS)


def _highlighted_now(page) -> list[str]:
    return page.evaluate(LIT_IDS_JS)


def test_condition_and_its_parameters_with_the_keyboard(page, app_url, artifacts_dir):
    _open(page, app_url)
    _tab_to(page, "condition", "combobox")
    seq = page.evaluate(SEQ_JS)
    _choose_option(page, "Disc herniation")
    _wait_url(page, "condition=herniation", redrawn_after=seq)
    assert "zone=paracentral" in page.url and "side=left" in page.url
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'lesion-disc')",
                           timeout=LOAD_TIMEOUT_MS)
    _highlighted(page, "root-L5-left")  # paracentral L4-L5 catches the traversing L5 root
    assert page.get_by_text("What is squeezed").count() >= 1

    # Tab moves on through the parameters in page order: level (a selectbox: many values), zone,
    # side (radio groups: Tab lands on the checked option, an arrow key picks the next one).
    _tab_to(page, "param_level", "combobox")
    seq = page.evaluate(SEQ_JS)
    _choose_option(page, "L5-S1")
    _wait_url(page, "level=L5-S1", redrawn_after=seq)
    _highlighted(page, "root-S1-left")  # paracentral L5-S1 catches the traversing S1 root

    _tab_to(page, "param_zone", "radio")
    seq = page.evaluate(SEQ_JS)
    page.keyboard.press("ArrowDown")
    _wait_url(page, "zone=foraminal", redrawn_after=seq)
    _highlighted(page, "root-L5-left")  # foraminal L5-S1 catches the exiting L5 root
    assert "root-S1-left" not in _highlighted_now(page)

    _tab_to(page, "param_side", "radio")
    seq = page.evaluate(SEQ_JS)
    page.keyboard.press("ArrowRight")
    _wait_url(page, "side=right", redrawn_after=seq)
    _highlighted(page, "root-L5-right")
    assert "root-L5-left" not in _highlighted_now(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts_dir / "e2e-keyboard-condition.png"))


def test_audience_with_the_keyboard(page, app_url):
    _open(page, f"{app_url}/?condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate")
    main_before = page.locator('[data-testid="stMain"]').inner_text()
    _tab_to(page, "audience", "radio")
    page.keyboard.press("ArrowRight")
    _wait_url(page, "audience=educator")
    page.keyboard.press("ArrowRight")
    _wait_url(page, "audience=patient")
    assert page.locator('[data-testid="stSidebar"] .st-key-audience input[type="radio"]:checked') \
        .evaluate("e => e.closest('label').innerText.trim()") == "Patient"
    page.wait_for_function("(before) => document.querySelector('[data-testid=\"stMain\"]').innerText !== before",
                           arg=main_before, timeout=LOAD_TIMEOUT_MS)
    assert "condition=herniation" in page.url, "changing the audience must keep the condition"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_view_presets_with_the_keyboard(page, app_url, artifacts_dir):
    _open(page, app_url)
    presets = list(settings.CAMERA_PRESETS)
    assert presets[0] == settings.DEFAULT_VIEW and "superior" in presets
    _tab_to(page, "view", "radio")
    for view in presets[1:presets.index("superior") + 1]:
        page.keyboard.press("ArrowDown")
        _wait_url(page, f"view={view}")
    page.wait_for_function(f"""() => {{
        const c = ({CAMERA_JS})();
        return c && c.eye.z > 2 * Math.abs(c.eye.x) + 1;
    }}""", timeout=LOAD_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "e2e-keyboard-view-superior.png"))


def test_layers_with_space(page, app_url):
    _open(page, app_url)
    _tab_to(page, "layer_bones", "checkbox")
    page.keyboard.press("Space")
    _wait_url(page, "layers=")
    page.wait_for_function(f"() => !(document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'vertebra-L4')",
                           timeout=LOAD_TIMEOUT_MS)
    page.keyboard.press("Space")
    page.wait_for_function("() => !location.search.includes('layers=')", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).some(t => t.meta === 'vertebra-L4')",
                           timeout=LOAD_TIMEOUT_MS)
