"""Fuzzing links in the browser: hostile query strings opened in headless Chromium (H6, issue 14).

The link generator is the one the AppTest fuzzer uses (``tests/fuzz/generators.py``, seeded); this
file lives beside the other browser tests to share their one ``streamlit run`` server and their one
Chromium (a second Playwright in the same test session fails). For each link: no exception box, no
request leaving the machine (every request is watched), and no ``<img>``, ``<a>``, ``<iframe>``,
``srcset`` or CSS ``url()`` whose target came from the link. ``FUZZ_SCALE`` multiplies the count
(``python tests/fuzz --long`` documents the long run).
"""

from __future__ import annotations

import urllib.parse

import pytest
from app_page import SCRIPT_NOT_RUNNING_JS
from fuzz.generators import MARKERS, case_ids, link_case, rng

BROWSER_CASES = 30
# Targets the page itself may hold; anything else with a fuzzer's marker or a script scheme is a leak.
TARGETS_JS = """() => Array.from(document.querySelectorAll('img, a, iframe, source, image, link, script, [style]'))
    .flatMap(e => [e.getAttribute('src'), e.getAttribute('href'), e.getAttribute('srcset'),
                   e.getAttribute('xlink:href'), (e.getAttribute('style') || '').includes('url(') ?
                   e.getAttribute('style') : null])
    .filter(Boolean)"""


def _query(case_no: int) -> str:
    case = link_case(rng("browser", case_no), max_pairs=8)
    # Keep the request line under the web server's limit (about 128 KB; longer links get "400 Bad
    # Request" before the app sees them, a case tests/e2e/test_security_page.py covers).
    pairs = [(k[:2000], v[:2000]) for k, v in case.pairs]
    return urllib.parse.urlencode(pairs)


@pytest.mark.e2e
def test_fuzz_links_in_the_browser(browser, app_url):
    outside: list[str] = []
    problems: list[tuple[int, str]] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.on("request", lambda r: not r.url.startswith(
        (app_url, app_url.replace("http", "ws"), "data:", "blob:", "about:")) and outside.append(r.url))
    try:
        for case_no in case_ids("browser", BROWSER_CASES):
            query = _query(case_no)
            page.goto(f"{app_url}/?{query}", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Lumbar Explorer").wait_for(timeout=90_000)
            page.wait_for_function(SCRIPT_NOT_RUNNING_JS, timeout=90_000)
            page.wait_for_timeout(500)
            if page.locator("[data-testid=stException]").count():
                problems.append((case_no, "exception box: " + page.locator("[data-testid=stException]")
                                 .first.inner_text()[:300]))
            leaks = [t for t in page.evaluate(TARGETS_JS)
                     if any(m in t for m in MARKERS) or t.strip().lower().startswith(("javascript:", "data:text"))]
            if leaks:
                problems.append((case_no, f"targets from the link: {leaks[:3]}"))
            if outside:
                problems.append((case_no, f"requests leaving the machine: {outside[:3]}"))
                outside.clear()
    finally:
        context.close()
    assert problems == [], problems[:5]
