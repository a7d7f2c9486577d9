"""Accessibility: axe-core run inside the real page on the app's main states.

axe-core comes from npm, pinned in package.json / package-lock.json (``npm ci`` installs it;
.ci/run does). It is injected into the page with ``page.add_script_tag`` and run on the whole
document once the 3D view (and the body chart, when the page has one) has been drawn and the
script run has finished. Every state's full axe result is saved to
``test-artifacts/axe-<state>.json``.

The test fails on any *critical* or *serious* violation; *moderate* and *minor* ones are listed in
the test output and in ``test-artifacts/axe-summary.json``.

Exclusions: none. Streamlit's own chrome (header, sidebar frame, widgets) passes axe in these
states, so the whole document is checked. If one is ever needed, add it to ``EXCLUDE`` with the
reason; only elements that are clearly Streamlit's, not rendered by this app, may be excluded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from app_page import CHART as BODY_CHART
from app_page import GRAPH, LOAD_TIMEOUT_MS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")

STATES: dict[str, str] = {
    "healthy-first-load": "",
    "herniation": "?condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate",
    "patient": "?audience=patient&condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate",
    "cauda-equina": "?condition=cauda_equina&level=L4-L5",
}

# (CSS selector, why it is not the app's to fix). Empty: nothing is excluded.
EXCLUDE: list[tuple[str, str]] = []


@pytest.fixture(scope="session")
def axe_path() -> Path:
    """axe.min.js from node_modules; skip on a laptop without it, fail in CI."""
    if not AXE_JS.exists():
        reason = f"axe-core not installed ({AXE_JS.relative_to(ROOT)} missing): run `npm ci` in the repository root"
        if os.environ.get("CI"):
            pytest.fail(f"end-to-end prerequisite missing in CI: {reason}")
        pytest.skip(reason)
    return AXE_JS


def _ready(page, url: str) -> None:
    """Open `url` and wait until the app has drawn everything and its script run has finished."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1",
                           timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"""() => {{
        const body = document.querySelector('{BODY_CHART}');
        return !body || Number(body.dataset.renderSeq || 0) >= 1;
    }}""", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let late layout (Plotly modebar, fonts) settle


def _describe(violation: dict) -> str:
    lines = [f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"]
    for node in violation["nodes"][:8]:
        lines.append(f"    at {' > '.join(map(str, node['target']))}: {node['html'][:160]}")
        summary = " ".join(node.get("failureSummary", "").split())
        if summary:
            lines.append(f"       {summary[:300]}")
    if len(violation["nodes"]) > 8:
        lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_accessibility_violations(axe_path, page, app_url, artifacts_dir, state):
    _ready(page, f"{app_url}/{STATES[state]}")
    page.add_script_tag(path=str(axe_path))
    context = {"exclude": [[selector] for selector, _reason in EXCLUDE]} if EXCLUDE else None
    result = page.evaluate("""async (context) => {
        const options = {resultTypes: ['violations', 'incomplete']};
        return context ? await axe.run(context, options) : await axe.run(document, options);
    }""", context)
    (artifacts_dir / f"axe-{state}.json").write_text(json.dumps(result, indent=1))

    violations = result["violations"]
    summary_path = artifacts_dir / "axe-summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary[state] = {"axe": result.get("testEngine", {}).get("version"), "url": page.url,
                      "violations": [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
                                      "targets": [n["target"] for n in v["nodes"][:8]]} for v in violations]}
    summary_path.write_text(json.dumps(summary, indent=1))

    blocking = [v for v in violations if v["impact"] in BLOCKING]
    other = [v for v in violations if v["impact"] not in BLOCKING]
    for v in other:
        print(f"{state}: non-blocking " + _describe(v))
    assert not blocking, (
        f"axe-core found {len(blocking)} critical/serious violation(s) in state '{state}' "
        f"(full result: test-artifacts/axe-{state}.json):\n" + "\n".join(_describe(v) for v in blocking))
