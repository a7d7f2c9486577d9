"""The cut-down icon font looks exactly like Streamlit's: every kept icon, drawn in Chromium.

Each icon name the copy keeps (``explorer/static/icon-font.json``) is written as text in a grid,
once in Streamlit's own ``MaterialSymbols-Rounded`` file and once in the copy, with the styles
Streamlit's icons use (ligatures on, weight 400), at two sizes; the two grids must be the same
pixels. An icon the copy left out is drawn differently (its name in letters, not the icon): the
last test shows the comparison catches that. The fonts are given to the page as data: URLs (no
request leaves the page).
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageChops  # Pillow comes with matplotlib (PyVista's dependency)

from explorer.settings import STATIC_DIR
from explorer.ui import icon_font

CELL_PX = 44
COLUMNS = 30


def _page_html(original: bytes, copy: bytes, names: list[str], size_px: int) -> str:
    def face(family: str, data: bytes) -> str:
        return (f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: 400; font-display: block; '
                f'src: url(data:font/woff2;base64,{base64.b64encode(data).decode()}) format("woff2"); }}')

    cells = "".join(f"<span>{n}</span>" for n in names)
    return f"""<!DOCTYPE html><html><head><style>
{face("IconOriginal", original)}
{face("IconCopy", copy)}
body {{ margin: 0; background: #fff; color: #111827; }}
.grid {{ display: grid; grid-template-columns: repeat({COLUMNS}, {CELL_PX}px); width: {COLUMNS * CELL_PX}px; }}
.grid span {{ display: inline-flex; align-items: center; justify-content: center; width: {CELL_PX}px;
  height: {CELL_PX}px; overflow: hidden; font-size: {size_px}px; font-weight: 400; font-style: normal;
  line-height: 1; letter-spacing: normal; text-transform: none; white-space: nowrap; direction: ltr;
  font-feature-settings: "liga"; -webkit-font-smoothing: antialiased; }}
#a span {{ font-family: "IconOriginal"; }}
#b span {{ font-family: "IconCopy"; }}
</style></head><body><div class="grid" id="a">{cells}</div><div class="grid" id="b">{cells}</div></body></html>"""


def _grids(browser, original: bytes, copy: bytes, names: list[str], size_px: int):
    context = browser.new_context(viewport={"width": COLUMNS * CELL_PX, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_content(_page_html(original, copy, names, size_px))
        page.evaluate("""async (px) => {
            await document.fonts.load(`${px}px IconOriginal`); await document.fonts.load(`${px}px IconCopy`);
            await document.fonts.ready; }""", size_px)
        assert page.evaluate("() => [...document.fonts].every((f) => f.status === 'loaded')"), "a font did not load"
        shots = [Image.open(io.BytesIO(page.locator(sel).screenshot())).convert("RGB") for sel in ("#a", "#b")]
    finally:
        context.close()
    return shots


def _differing(a, b, names: list[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        x, y = (i % COLUMNS) * CELL_PX, (i // COLUMNS) * CELL_PX
        box = (x, y, x + CELL_PX, y + CELL_PX)
        if ImageChops.difference(a.crop(box), b.crop(box)).getbbox() is not None:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def fonts() -> tuple[bytes, bytes, list[str]]:
    info = icon_font.manifest()
    source = icon_font.source_font()
    assert info and source is not None
    return source.read_bytes(), (STATIC_DIR / info["subset"]).read_bytes(), list(info["icons"])


@pytest.mark.parametrize("size_px", [20, 28])  # Streamlit's icon sizes run from 1rem to 1.5rem+
def test_every_kept_icon_is_drawn_exactly_as_with_streamlits_font(browser, fonts, size_px):
    original, copy, names = fonts
    a, b = _grids(browser, original, copy, names, size_px)
    assert a.size == b.size
    # Something was drawn (a blank grid would also compare equal).
    assert a.convert("L").getextrema()[0] < 128
    assert _differing(a, b, names) == []


def test_an_icon_left_out_of_the_copy_would_be_caught(browser, fonts):
    original, copy, names = fonts
    left_out = [n for n in ("rocket_launch", "pets", "sailing", "volcano") if n not in names]
    assert left_out, "these icons were expected to be left out of the copy"
    a, b = _grids(browser, original, copy, left_out, 24)
    assert _differing(a, b, left_out) == left_out
