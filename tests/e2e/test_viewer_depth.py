"""The transparency pass's depth-only draw by each opaque mesh's picking program (gl_workarounds.js,
``depthPrepassPick``) in the real browser: in a story view (see-through bones in front of the
lesion) the workaround draws the depth-only pass with the picking program, and the frame it draws
is the frame Plotly's own pass draws, pixel for pixel (the same page with the workaround switched
off, the same state; both frames read back whole from WebGL, so no screenshot scaling or page
compositing comes between).
"""

from __future__ import annotations

import pytest
from app_page import frames_on_and_off

from benchmarks.gl_frames import differing_pixels, whole_frame_js

pytestmark = pytest.mark.e2e

# A story view with see-through meshes (a left paracentral L4-L5 herniation), and after a change
# to another condition (a slipped vertebra: other meshes, other see-throughs).
STATES = ["condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate",
          "condition=spondylolisthesis"]
VIEWPORT = {"width": 1366, "height": 768}

# Draw the scene once more and read the whole frame back (base64 RGBA), with what the frame held.
FRAME_JS = whole_frame_js("seeThrough: gp.objects.filter((o) => o.isTransparent && o.isTransparent()).length, "
                          "depth: Object.assign({}, window.__lumbar3d.depthStats || {})")


def test_depth_pass_by_the_picking_program_draws_the_same_frame(browser, app_url) -> None:
    frames = frames_on_and_off(browser, app_url, STATES, "depthPrepassPick", FRAME_JS, VIEWPORT,
                               console_kinds=("error",), about=("lumbar", "webgl"))
    for i, state in enumerate(STATES):
        on, off = frames["workaround"][i], frames["plotly"][i]
        assert on["seeThrough"] > 0, f"{state}: a story view has see-through meshes (else there is no such pass)"
        assert on["depth"].get("picked", 0) > 0, f"{state}: the depth-only draws used the picking program {on['depth']}"
        assert off["depth"] == {}, f"switched off: nothing drawn by it ({off['depth']})"
        assert (on["w"], on["h"]) == (off["w"], off["h"])
        count, worst = differing_pixels(on, off)
        assert count == 0, f"{state}: {count} pixels differ (up to {worst}/255) from Plotly's own pass"
