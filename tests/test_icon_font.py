"""explorer/ui/icon_font.py: the cut-down icon font, what it covers, and how it is served.

The middleware is driven through ASGI with a stand-in for Streamlit that serves the *installed*
Streamlit's real font file, so the size/CRC check runs on the real bytes. Whether the icons look
the same is checked in the browser (tests/e2e/test_icon_font_pixels.py).
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import pytest
from test_first_load import call

from explorer.settings import STATIC_DIR
from explorer.ui import icon_font
from explorer.ui.first_load import FirstLoadMiddleware, GzipCache

REMAKE = "remake it: python -m explorer.ui.icon_font (explorer/ui/icon_font.py says how)"


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    value = icon_font.manifest()
    assert value, f"{icon_font.MANIFEST} is missing or unreadable"
    return value


@pytest.fixture(scope="module")
def source() -> Path:
    found = icon_font.source_font()
    assert found is not None, f"no single {icon_font.SOURCE_GLOB} in Streamlit's static folder"
    return found


class FontServer:
    """Answers like Streamlit's static handler: the real font file with its caching headers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.seen: list[dict[bytes, bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.seen.append(dict(scope["headers"]))
        headers = [(b"content-type", b"font/woff2"), (b"etag", b'"streamlit"'), (b"accept-ranges", b"bytes"),
                   (b"last-modified", b"Sun, 06 Dec 2026 05:51:40 GMT"),
                   (b"cache-control", b"public, immutable, max-age=31536000"),
                   (b"content-length", str(len(self.body)).encode())]
        status, body = 200, self.body
        if dict(scope["headers"]).get(b"if-none-match") == b'"streamlit"':
            status, body = 304, b""
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def test_the_copy_was_made_from_the_installed_streamlits_font(info, source):
    body = source.read_bytes()
    assert info["source"] == source.name, f"Streamlit's icon font is now {source.name}: {REMAKE}"
    assert (info["source_size"], info["source_crc32"]) == (len(body), zlib.crc32(body)), REMAKE
    data = (STATIC_DIR / info["subset"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == info["subset_sha256"] and len(data) == info["subset_size"]
    assert data[:4] == b"wOF2"
    # The point of it: a fifth of the original's size or less (374,740 -> about 68,000 bytes).
    assert len(data) * 5 < len(body)


def test_every_icon_streamlit_and_this_app_name_is_kept(info):
    kept = set(info["icons"])
    named = icon_font.streamlit_shortcodes() | icon_font.project_shortcodes()
    missing = named - kept - set(info["not_in_font"])
    assert not missing, f"icons named but not in the cut-down font: {sorted(missing)}; {REMAKE}"
    # The app's own icons (explorer/ui/reading.py) and the sidebar's collapse arrows, by name.
    assert {"info", "emergency", "view_in_ar", "keyboard_double_arrow_left", "keyboard_double_arrow_right",
            "expand_more", "expand_less", "close", "error", "check_circle"} <= kept
    # Every icon name that occurs as a word in Streamlit's scripts is kept, when the font has it:
    # the words recorded as kept or as "no icon" at making time must still cover today's scripts.
    words = icon_font.script_words()
    assert kept & words, "no kept icon name occurs in Streamlit's scripts: wrong folder read?"


def test_shortcodes_are_found_in_files(tmp_path):
    (tmp_path / "a.py").write_text('st.error("x", icon=":material/emergency:")  # :material/Not_lower:\n')
    (tmp_path / "b.md").write_text("See :material/view_in_ar: and :emoji: and :material/:\n")
    assert icon_font.shortcodes([tmp_path / "a.py", tmp_path / "b.md", tmp_path / "gone.md"]) == {
        "emergency", "view_in_ar"}


def test_the_middleware_sends_the_copy_with_its_own_validator(info, source):
    body = source.read_bytes()
    inner = FontServer(body)
    mw = FirstLoadMiddleware(inner, cache=GzipCache())
    url = icon_font.URL_PREFIX + info["source"]
    status, head, sent = call(mw, url, {"Accept-Encoding": "gzip, br"})
    data = (STATIC_DIR / info["subset"]).read_bytes()
    assert status == 200 and sent == data and int(head["content-length"]) == len(data)
    assert head["cache-control"] == "no-cache"  # never Streamlit's immutable year for this URL
    assert head["etag"] == f'"{info["subset_sha256"][:32]}"' and "last-modified" not in head
    assert "content-encoding" not in head and head["content-type"] == "font/woff2"
    # Revalidation: the copy's own ETag gives 304 without a body; Streamlit's (an old copy of the
    # original in the browser) gives the copy.
    status, head, sent = call(mw, url, {"If-None-Match": head["etag"]})
    assert status == 304 and sent == b"" and head["etag"] == f'"{info["subset_sha256"][:32]}"'
    status, _, sent = call(mw, url, {"If-None-Match": '"streamlit"'})
    assert status == 200 and sent == data
    # Streamlit itself never answered 304 from the browser's validator (that would be for its file).
    assert all(b"if-none-match" not in seen and b"if-modified-since" not in seen for seen in inner.seen)


def test_another_font_at_that_url_goes_out_unchanged(info, source):
    changed = bytearray(source.read_bytes())
    changed[-1] ^= 1  # as if Streamlit shipped another build of the font under the same name
    mw = FirstLoadMiddleware(FontServer(bytes(changed)), cache=GzipCache())
    status, head, sent = call(mw, icon_font.URL_PREFIX + info["source"])
    assert status == 200 and sent == bytes(changed)
    assert head["cache-control"] == "public, immutable, max-age=31536000" and head["etag"] == '"streamlit"'
    # Other fonts are never touched.
    mw = FirstLoadMiddleware(FontServer(source.read_bytes()), cache=GzipCache())
    status, head, sent = call(mw, icon_font.URL_PREFIX + "SourceSansVF-Upright.ttf.BsWL4Kly.woff2")
    assert sent == source.read_bytes() and head["etag"] == '"streamlit"'


def test_an_altered_copy_is_never_sent(info, source, tmp_path, monkeypatch):
    monkeypatch.setattr(icon_font, "STATIC_DIR", tmp_path)
    altered = bytearray((STATIC_DIR / info["subset"]).read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    (tmp_path / info["subset"]).write_bytes(bytes(altered))
    icon_font.subset_bytes.cache_clear()
    try:
        assert icon_font.replacement(source.read_bytes()) is None
        (tmp_path / info["subset"]).write_bytes((STATIC_DIR / info["subset"]).read_bytes())
        icon_font.subset_bytes.cache_clear()
        assert icon_font.replacement(source.read_bytes()) is not None
    finally:
        icon_font.subset_bytes.cache_clear()
