"""Values from a link, a file or the browser are shown as literal text, shortened, never interpreted.

Two levels: AppTest checks the Markdown source the app sends (escaped, shortened), and one browser
test checks what Chromium actually draws from a hostile link (no link, image, icon, maths or
HTML), since Streamlit's Markdown rewrites some patterns after parsing, where a backslash does
not reach.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.state import MAX_SHOWN_CHARS, parse_query_params
from explorer.ui.reading import MAX_MESSAGE_CHARS, WORD_JOINER, literal

APP = str(Path(__file__).resolve().parent.parent / "explorer" / "app.py")
HOST = "203.0.113.9"  # TEST-NET-3 (RFC 5737): never a real host
HOSTILE: dict[str, str] = {
    "image": f"![x](http://{HOST}/p.png)",
    "link": f"[click here](http://{HOST}/)",
    "bare_url": f"http://{HOST}/a",
    "www": "www.example.org",
    "email": "someone@example.org",
    "emoji": ":bone:",
    "icon": ":material/home:",
    "colour": ":red[red]",
    "maths": "$x$",
    "html": "<b>bold</b><img src=x onerror=alert(1)>",
    "entity": "&#x1F9B4;&lt;",
    "emphasis": "**b** _i_ `c` ~~s~~",
    "heading": "# Big\n- list",
    "table": "| a | b |\n|---|---|",
}
HUGE = "A" * 300_000


def reader_text(markdown_source: str) -> str:
    """What a reader sees of escaped Markdown: backslash escapes and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown_source, flags=re.DOTALL).replace(WORD_JOINER, "")


def unescaped(markdown_source: str, chars: str) -> list[str]:
    """Characters from ``chars`` that appear without a backslash in front of them."""
    return [m.group(1) for m in re.finditer(r"(?<!\\)(?:\\\\)*([" + re.escape(chars) + "])", markdown_source)]


# --------------------------------------------------------------------------- the helpers
@pytest.mark.parametrize("name", list(HOSTILE))
def test_literal_escapes_every_markdown_construct(name):
    value = HOSTILE[name]
    out = literal(value)
    assert reader_text(out) == value
    assert unescaped(out, "[]()!<>`*_$#|~&-:") == []
    # The patterns Streamlit rewrites after parsing are broken by the invisible joiner.
    assert "://" not in out.replace("\\", "") and "www." not in out.replace("\\", "").lower()
    assert not re.search(r":[A-Za-z]", out.replace("\\", "")), out
    assert not re.search(r"@[A-Za-z]", out), out


def test_literal_shortens_when_asked():
    out = literal(HUGE, limit=MAX_MESSAGE_CHARS)
    assert len(reader_text(out)) == MAX_MESSAGE_CHARS and reader_text(out).endswith("…")


def test_condition_parameter_message_is_shortened():
    """``ConditionSpec.validate`` used to quote the whole value (300,000 characters)."""
    errors = parse_query_params({"condition": "herniation", "zone": HUGE}).errors
    assert len(errors) == 1 and "zone" in errors[0]
    assert len(errors[0]) < 300 and HUGE[:MAX_SHOWN_CHARS - 1] + "…" in errors[0]


# --------------------------------------------------------------------------- the page (AppTest)
def _run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _boxes(at: AppTest) -> list[str]:
    return [str(b.value) for b in [*at.warning, *at.error, *at.info, *at.caption]]


def test_hostile_link_values_are_quoted_as_text():
    query = {"view": HOSTILE["image"], "audience": HOSTILE["link"], "mode": HOSTILE["icon"],
             "dim": HOSTILE["maths"], "selected": HOSTILE["html"], "labels": HOSTILE["emoji"],
             HOSTILE["email"]: "1", "layers": f"{HOSTILE['www']},{HOSTILE['colour']}"}
    at = _run(query)
    warnings = [str(w.value) for w in at.warning]
    shown = " ".join(reader_text(w) for w in warnings)
    for value in (HOSTILE["image"], HOSTILE["link"], HOSTILE["icon"], HOSTILE["maths"], HOSTILE["html"],
                  HOSTILE["emoji"], HOSTILE["email"], HOSTILE["www"], HOSTILE["colour"]):
        assert repr(value) in shown, value
    for w in warnings:
        assert unescaped(w, "[]()!<>`*_$#|~&") == [], w
        assert "://" not in w.replace("\\", "") and not re.search(r"(?<!\\):(?=[A-Za-z])", w), w


@pytest.mark.parametrize("key", ["view", "zone", "unknown"])
def test_huge_link_values_are_shortened(key):
    query = {"condition": "herniation", key: HUGE} if key != "unknown" else {HUGE: "1"}
    at = _run(query)
    boxes = [b for b in _boxes(at) if "AAAA" in b]
    assert boxes, _boxes(at)
    for box in boxes:
        assert len(reader_text(box)) <= MAX_MESSAGE_CHARS
        assert "A" * (MAX_SHOWN_CHARS - 1) + "…" in reader_text(box)


# --------------------------------------------------------------------------- exposure defaults
def test_config_defaults_are_safe():
    """Loopback only, no error details for visitors, CORS/XSRF on, no usage statistics."""
    import tomllib

    from streamlit.config import ShowErrorDetailsConfigOptions

    config = tomllib.loads((Path(APP).parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"].get("enableCORS", True) is True
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == ShowErrorDetailsConfigOptions.NONE.value
    assert "developmentMode" not in config.get("global", {})
