"""No fade animation on the page's elements during a rerun (explorer.ui.page.PAGE_CSS).

At the start of every rerun Streamlit marks each element stale (``data-stale="true"``), which in
its own styles starts an opacity transition (1 s after a 0.5 s delay). Chromium runs each such
transition on a compositor layer of its own; with software graphics rastering those layers took
turns with the 3D view's frame (a switch 0.83-0.91x as long without them). Our CSS switches the
fade off. The test fails if a Streamlit upgrade renames the marker or animates another way: it
counts, in the real browser, the elements marked stale by a condition change and the animations
running on them.
"""

from __future__ import annotations

import pytest
from app_page import open_viewer, pick_condition, wait_for_rerun

pytestmark = pytest.mark.e2e

# Records, for each element Streamlit marks stale, the animations running on it at that moment.
WATCH_STALE_JS = """() => {
  const seen = (window.__staleSeen = {stale: 0, animated: 0, properties: []});
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target;
      if (!el.dataset || el.dataset.stale !== 'true') continue;
      seen.stale += 1;
      const running = el.getAnimations();
      if (running.length) seen.animated += 1;
      for (const a of running) seen.properties.push(a.transitionProperty || a.animationName || '?');
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-stale']});
}"""


def test_a_rerun_starts_no_fade_on_the_page(page, app_url) -> None:
    open_viewer(page, app_url + "/?condition=herniation")
    page.evaluate(WATCH_STALE_JS)
    pick_condition(page, "Spinal stenosis")
    wait_for_rerun(page)
    seen = page.evaluate("() => window.__staleSeen")
    # The marker is still there (else this test would pass without checking anything).
    assert seen["stale"] >= 20, f"Streamlit marked only {seen['stale']} elements stale: has the marker changed?"
    assert seen["animated"] == 0, (f"{seen['animated']} of {seen['stale']} stale elements started an animation "
                                   f"({sorted(set(seen['properties']))})")
    assert page.console_errors == []
