"""What Chromium draws from a hostile link (the browser half of tests/test_security.py).

Streamlit's Markdown rewrites some patterns after parsing, where a backslash does not reach, so
the page itself is checked: no link, image, icon, maths or HTML inside the app's message boxes,
no request leaving the machine, and a note when Streamlit silently drops an over-long link. Uses
the session's shared app and Chromium (one Playwright per test session).
"""

from __future__ import annotations

import pytest
from test_security import HOSTILE

from explorer.ui.reading import WORD_JOINER


@pytest.fixture()
def live_page(browser, app_url):
    """The shared app's URL and the shared Chromium."""
    return app_url, browser


@pytest.mark.e2e
def test_browser_draws_hostile_link_values_as_plain_text(live_page):
    """What Chromium draws: no link, image, icon, maths or HTML inside the app's message boxes."""
    import urllib.parse

    url, browser = live_page
    values = [HOSTILE[k] for k in ("image", "link", "bare_url", "www", "email", "emoji", "icon", "colour",
                                   "maths", "html", "entity", "emphasis")]
    query = urllib.parse.urlencode({"view": values[0], "audience": values[1], "layers": ",".join(values[2:4]),
                                    "mode": values[4], "labels": values[5], "dim": values[6],
                                    "selected": values[7], "bone_opacity": values[8], values[9]: "1",
                                    "condition": values[10], values[11]: "1"})
    page = browser.new_page()
    outside: list[str] = []
    page.on("request", lambda r: r.url.startswith(("http", "ws")) and not r.url.startswith(
        (url, url.replace("http", "ws"))) and outside.append(r.url))
    page.goto(f"{url}/?{query}")
    page.wait_for_selector("[data-testid=stAlertContentWarning]", timeout=90_000)
    page.wait_for_timeout(1500)
    boxes = page.query_selector_all("[data-testid=stAlertContentWarning]")
    texts = [b.inner_text().replace(WORD_JOINER, "") for b in boxes]
    drawn = {sel: sum(len(b.query_selector_all(sel)) for b in boxes)
             for sel in ("a", "img", ".katex", "[data-testid=stIconMaterial]", "[role=img]", "b", "strong",
                         "em", "code", "del", "table", "h1")}
    page.close()
    joined = "\n".join(texts)
    for value in values:
        assert repr(value) in joined, (value, texts)
    assert all(n == 0 for n in drawn.values()), drawn
    assert "🦴" not in joined and outside == [], outside


@pytest.mark.e2e
@pytest.mark.parametrize("fields,ignored", [(1000, False), (1001, True)])
def test_browser_says_when_streamlit_ignored_the_link(live_page, fields, ignored):
    """Streamlit drops a query string of more than 1,000 parameters without a word; the page says so."""
    from explorer.ui.page import QUERY_MAX_FIELDS

    url, browser = live_page
    assert fields - QUERY_MAX_FIELDS in (0, 1)
    query = "&".join(["view=lateral", *(f"p{i}=1" for i in range(fields - 1))])
    page = browser.new_page()
    page.goto(f"{url}/?{query}")
    page.get_by_role("heading", name="Lumbar Explorer").wait_for(timeout=90_000)
    page.wait_for_timeout(2000)
    note = page.locator("#lx-link-ignored")
    # At 1,000 parameters Streamlit passes them on (999 unknown ones are reported); one more and
    # the app sees none, so only the note explains why the start view is shown.
    warned = page.locator("[data-testid=stAlertContentWarning]").count()
    visible = note.is_visible()
    page.close()
    assert visible is ignored
    assert (warned == 0) is ignored
