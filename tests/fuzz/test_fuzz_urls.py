"""Fuzzing the link (query string): random and hostile parameters through the parser and the page.

Two levels, each with seeded cases (:mod:`tests.fuzz.generators`):

- ``parse_query_params`` alone, many cases (fast): never raises, always a valid state, every bad
  value of a known parameter and every unknown key reported, quoted at most 80 characters long,
  and the message, made literal as the page does, draws as plain text.
- the whole page in ``streamlit.testing`` (AppTest), fewer cases (about 0.4 s each): no
  exception, every problem the link has shown in a warning box as plain text (markdown-it finds no
  link, image, HTML, emphasis...; no bare link, e-mail, icon shortcode or maths left for
  Streamlit to rewrite), no element of the page quoting more than 80 characters of a link value,
  and a safe fallback: bad values give the defaults and the link the app writes back is clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.state import DEFAULT_STATE, STATE_KEYS, parse_query_params, to_query_params

from .checks import interpreted, links_to_markers, reader_text, rewritten
from .generators import (
    HANG_S,
    STREAMLIT_KEYS,
    LinkCase,
    case_ids,
    link_case,
    link_domains,
    quotes_too_much,
    rng,
)

APP = str(Path(__file__).resolve().parents[2] / "explorer" / "app.py")
PARSE_CASES = 400
PAGE_CASES = 60
# Fields whose fallback the page must show: key -> (widget key in the session, default).
FALLBACK = {"audience": DEFAULT_STATE.audience, "mode": DEFAULT_STATE.mode, "condition": DEFAULT_STATE.condition,
            "view": DEFAULT_STATE.view}


def _known_keys() -> set[str]:
    from explorer.state import CONDITION_PARAM_NAMES

    return {*STATE_KEYS, *CONDITION_PARAM_NAMES}


def must_report(case: LinkCase) -> list[tuple[str, str]]:
    """(what, value) pairs the app must name: bad last values of the state fields, unknown keys."""
    domains = link_domains()
    out = []
    for key, value in case.last().items():
        if key in FALLBACK and value != "" and value.strip() not in domains[key]:
            out.append((key, value.strip()))
        elif key not in _known_keys() and key not in STREAMLIT_KEYS and key and value != "":
            out.append(("key", key))
    return out


def expected_fallback(case: LinkCase) -> dict[str, str]:
    domains = link_domains()
    last = case.last()
    return {k: (last[k].strip() if k in last and last[k].strip() in domains[k] else default)
            for k, default in FALLBACK.items()}


def check_message(message: str, case: LinkCase) -> None:
    """One problem message about the link: short quotes, and drawn as plain text once made literal."""
    from explorer.ui.reading import MAX_MESSAGE_CHARS, literal

    values = [v for pair in case.pairs for v in pair]
    assert quotes_too_much(message, values) is None, message[:300]
    shown = literal(message, limit=MAX_MESSAGE_CHARS)
    assert interpreted(shown) == [], (interpreted(shown), shown[:300])
    assert rewritten(shown) == [], (rewritten(shown), shown[:300])


@pytest.mark.parametrize("case_no", case_ids("parse", PARSE_CASES))
def test_fuzz_parse_query_params(case_no):
    case = link_case(rng("parse", case_no))
    result = parse_query_params(case.query_lists())
    state = result.state
    # The state is one the app can show: re-parsing its own link gives it back with no problem.
    again = parse_query_params(to_query_params(state))
    assert again.errors == () and again.state == state, (case.pairs, again.errors)
    for key, default in expected_fallback(case).items():
        assert getattr(state, key) == default, (key, case.pairs)
    joined = "\n".join(result.errors)
    for what, value in must_report(case):
        assert repr(value[:79])[1:-1][:40] in joined or repr(value[:40])[1:-1] in joined, (what, value[:100], joined[:500])
    for message in result.errors:
        check_message(message, case)


def _boxes(at) -> dict[str, list[str]]:
    return {kind: [str(e.value) for e in getattr(at, kind)]
            for kind in ("warning", "error", "info", "success", "caption", "markdown")}


@pytest.mark.parametrize("case_no", case_ids("page", PAGE_CASES))
def test_fuzz_links_on_the_page(case_no):
    from streamlit.testing.v1 import AppTest

    from explorer.ui.reading import MAX_MESSAGE_CHARS

    case = link_case(rng("page", case_no), max_pairs=8)
    at = AppTest.from_file(APP, default_timeout=max(HANG_S, 120))
    for key, values in case.query_lists().items():
        at.query_params[key] = values if len(values) > 1 else values[0]
    at.run()
    assert not at.exception, ([str(e.value)[:500] for e in at.exception], case.pairs)

    boxes = _boxes(at)
    values = [v for pair in case.pairs for v in pair]
    for kind, sources in boxes.items():
        for source in sources:
            assert quotes_too_much(reader_text(source), values) is None, (kind, source[:300])
            assert links_to_markers(source) == [], (kind, source[:300])
    # Every problem with the link is on the page, in a warning box, as plain text.
    errors = list(at.session_state["url_errors"])
    warnings = boxes["warning"]
    for message in errors:
        expected = message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"
        drawn = [w for w in warnings if reader_text(w) == expected]
        assert drawn, (message[:200], [w[:120] for w in warnings])
        assert interpreted(drawn[0]) == [] and rewritten(drawn[0]) == [], drawn[0][:300]
        check_message(message, case)
    joined = "\n".join(errors)
    for what, value in must_report(case):
        assert repr(value[:79])[1:-1][:40] in joined or repr(value[:40])[1:-1] in joined, (what, value[:100])
    # A safe fallback: defaults where the link was bad, and the link written back is clean.
    for key, wanted in expected_fallback(case).items():
        assert at.session_state[key] == wanted, (key, at.session_state[key], case.pairs)
    written = parse_query_params(dict(at.query_params))
    assert written.errors == (), (written.errors, dict(at.query_params))
