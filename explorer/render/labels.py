"""Labels in the 3D view: the vertebral levels, the squeezed roots, the lesion, and for a disc-level
lesion on one side which root exits and which traverses there.

Each label is a Plotly ``scene.annotations`` entry anchored at a point of the model (mm), so it
follows the model as the person rotates it. Dark text on a light box, 14-15 px (a projector).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from explorer import settings
from explorer.anatomy.model import MeshData, SpineModel
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.explain import degree_word
from explorer.conditions.simulate import Impact
from explorer.render.story import StoryView, lesion_meshes, project, squeezed_nerves

LEVEL_IDS: tuple[tuple[str, str], ...] = (("vertebra-L1", "L1"), ("vertebra-L2", "L2"), ("vertebra-L3", "L3"),
                                          ("vertebra-L4", "L4"), ("vertebra-L5", "L5"), ("sacrum", "S1"))
MAX_ROOT_LABELS: int = 2     # more squeezed roots are told in the text, not stacked on the picture
MAX_LESION_LABELS: int = 1
LESION_LABEL_CHARS: int = 46
# Labels are fitted into a band of VIEW_W x VIEW_H pixels around the view's centre: the 3D view is
# about 560 px tall on a laptop and a projector, wider there, and about 340 x 500 px on a phone.
# Plotly keeps the vertical field of view, so a point's pixel offset from the centre does not
# depend on the width: labels inside the band stay in sight in any view at least VIEW_W wide.
VIEW_W: float = 400.0
VIEW_H: float = 540.0
LABEL_INSIDE: float = 0.94   # anchors further out than this (of the half-view) are not labelled
LEVEL_INSIDE: float = 0.8    # a level label is anchored on the part of its bone this far in (of the half-height)...
LEVEL_INSIDE_X: float = 0.5  # ...and this far across, so the label beside it fits in the band
# The squeeze legend's corner (x0, y0, x1, y1 in px of the band): no label goes there.
LEGEND_BOX: tuple[float, float, float, float] = (VIEW_W - 190, VIEW_H - 66, VIEW_W, VIEW_H)


def _label(point: np.ndarray, text: str, ax: float, ay: float, size: int = settings.LABEL_FONT_PX,
           arrow: bool = True) -> dict[str, Any]:
    return {
        "x": float(point[0]), "y": float(point[1]), "z": float(point[2]), "text": text,
        "showarrow": arrow, "ax": float(ax), "ay": float(ay), "arrowcolor": "#FFFFFF", "arrowwidth": 2,
        "arrowhead": 2, "font": {"size": size, "color": settings.LABEL_TEXT_COLOR},
        "bgcolor": settings.LABEL_BACKGROUND, "bordercolor": settings.LABEL_BORDER, "borderwidth": 1,
        "borderpad": 3,
    }


class _Screen:
    """Where model points land in the story view (pixels of the VIEW_W x VIEW_H band)."""

    def __init__(self, story: StoryView | None) -> None:
        self.story = story

    def px(self, point: np.ndarray) -> tuple[float, float] | None:
        """(x right, y down) in pixels, or None without a story view or outside the view."""
        if self.story is None:
            return None
        s = project(np.asarray(point, dtype=float)[None, :], self.story.eye_mm, self.story.center_mm,
                    settings.STORY_VIEW_ASPECT)[0]
        x, y = VIEW_W / 2 + s[0] * VIEW_H / 2, (1 - s[1]) / 2 * VIEW_H
        if abs(s[1]) > LABEL_INSIDE or not 0.03 * VIEW_W < x < 0.97 * VIEW_W:
            return None
        return x, y


def _half_size(text: str, size: int) -> tuple[float, float]:
    """Rough half width and half height (px) of a label's box (about 0.6 em per character)."""
    lines = re.sub(r"<(?!br>)[^>]+>", "", text).split("<br>")
    return max(len(line) for line in lines) * size * 0.3 + 8, len(lines) * size * 0.65 + 6


def _fit(half: tuple[float, float], x: float, y: float, ax: float, ay: float) -> tuple[float, float]:
    """Shift an arrow's text offset so the text box stays inside the view."""
    half_w, half_h = half
    ax = float(np.clip(ax, half_w - x + 4, VIEW_W - x - half_w - 4))
    ay = float(np.clip(ay, half_h - y + 4, VIEW_H - y - half_h - 4))
    return ax, ay


def _overlaps(box: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in others)


class _Layout:
    """Places labels one by one in the story view so their boxes neither overlap nor cover the legend."""

    def __init__(self, story: StoryView | None) -> None:
        self.screen = _Screen(story)
        self.boxes: list[tuple[float, float, float, float]] = [LEGEND_BOX]
        self.labels: list[dict[str, Any]] = []

    def add(self, point: np.ndarray, text: str, ax: float, ay: float, size: int = settings.LABEL_FONT_PX,
            may_move: bool = True) -> bool:
        """Add a label; a movable one tries a few offsets, a fixed one (a level) is dropped on overlap."""
        if self.screen.story is None:
            self.labels.append(_label(point, text, ax, ay, size))
            return True
        at = self.screen.px(point)
        if at is None:
            return False
        half = _half_size(text, size)
        tries = [(ax, ay)]
        if may_move:
            step = 2 * half[1] + 6
            tries += [(ax, ay + k * step) for k in (1, -1, 2, -2, 3, -3)] + [(-ax, ay), (-ax, ay + step), (-ax, ay - step)]
        for tx, ty in tries:
            fx, fy = _fit(half, at[0], at[1], tx, ty)
            cx, cy = at[0] + fx, at[1] + fy
            box = (cx - half[0], cy - half[1], cx + half[0], cy + half[1])
            if not _overlaps(box, self.boxes):
                self.boxes.append(box)
                self.labels.append(_label(point, text, fx, fy, size))
                return True
        return False


def short_lesion_name(name: str) -> str:
    """The head of a lesion's hover name: "Herniated disc material (L4-L5, ...)" -> "Herniated disc material"."""
    head = re.split(r" \(|: ", name, maxsplit=1)[0].strip()
    if len(head) > LESION_LABEL_CHARS:
        head = head[:LESION_LABEL_CHARS].rsplit(" ", 1)[0] + "..."
    return head


def _screen_side(story: StoryView | None) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (mm) of the screen's right and up for the story camera (posterior if none)."""
    eye_dir = np.array([0.0, -1.0, 0.0]) if story is None else story.eye_mm - story.center_mm
    back = eye_dir / np.linalg.norm(eye_dir)
    up = np.array([0.0, 0.0, 1.0]) - back[2] * back
    up /= np.linalg.norm(up)
    return np.cross(up, back), up


def _meshes(model: SpineModel, impact: Impact | None) -> dict[str, MeshData]:
    # The scene's own conversion, remembered per mesh: a first visit of a state converted the same
    # lesion meshes three times (twice here, once for the scene). Imported here: model_scene imports
    # this module.
    from explorer.render.model_scene import mesh_data

    out = dict(model.meshes)
    if impact is not None:
        out.update({sid: mesh_data(m) for sid, m in impact.lesion.replaced.items()})
    return out


def level_labels(model: SpineModel, impact: Impact | None, story: StoryView | None,
                 layout: _Layout | None = None) -> list[dict[str, Any]]:
    """L1..L5 and S1 beside each vertebra, on the screen-left edge of the bone (right if no room).

    In the story view, levels whose bone is out of sight, or whose label would cover another
    label, are left out.
    """
    meshes = _meshes(model, impact)
    right, _ = _screen_side(story)
    layout = layout or _Layout(story)
    size = settings.LEVEL_LABEL_FONT_PX
    for sid, text in LEVEL_IDS:
        if sid not in meshes:
            continue
        v = meshes[sid].vertices
        if sid == "sacrum":  # label the S1 segment, the sacrum's top
            v = v[v[:, 2] > np.percentile(v[:, 2], 80)]
        mid = v[np.abs(v[:, 2] - np.median(v[:, 2])) < 6] if len(v) > 20 else v
        mid = mid if len(mid) else v
        label = f"<b>{text}</b>"
        if story is not None:  # the bone's edge within sight (a transverse process may reach out of it)
            s = project(mid, story.eye_mm, story.center_mm, settings.STORY_VIEW_ASPECT)
            mid = mid[(np.abs(s[:, 0]) < LEVEL_INSIDE_X) & (np.abs(s[:, 1]) < LEVEL_INSIDE)]
            if not len(mid):
                continue
        if not layout.add(mid[np.argmin(mid @ right)], label, -30.0, 0.0, size, may_move=False):
            layout.add(mid[np.argmax(mid @ right)], label, 30.0, 0.0, size, may_move=False)
    return layout.labels


def _disc_level(impact: Impact) -> tuple[str, str] | None:
    """(upper, lower) roots of a one-sided lesion at a disc level: (exiting, traversing)."""
    level = impact.parameters.get("level", "")
    side = impact.parameters.get("side")
    m = re.fullmatch(r"(L[1-5])-(L[1-5]|S1)", level)
    if not m or side not in ("left", "right"):
        return None
    return m.group(1), m.group(2)


def root_words(impact: Impact) -> dict[str, str]:
    """Root structure id -> its label: "left L5 root (traversing): moderately squeezed"."""
    degrees = squeezed_nerves(impact)
    roles: dict[str, str] = {}
    pair = _disc_level(impact)
    if pair is not None:
        side = impact.parameters["side"]
        roles[f"root-{pair[0]}-{side}"] = "exiting"
        roles[f"root-{pair[1]}-{side}"] = "traversing"
    words: dict[str, str] = {}
    for sid, d in sorted(degrees.items(), key=lambda kv: -kv[1]):
        s = STRUCTURES[sid]
        role = f" ({roles[sid]})" if sid in roles else ""
        if s.kind == "root":
            words[sid] = f"{s.side} {s.level} root{role}: {degree_word(d)} squeezed"
        elif s.kind == "sciatic":
            words[sid] = f"{s.side} sciatic nerve: {degree_word(d)} squeezed"
        else:
            words[sid] = f"{s.name}: {degree_word(d)} squeezed"
    for sid, role in roles.items():
        if sid not in words and sid in STRUCTURES:
            s = STRUCTURES[sid]
            words[sid] = f"{s.side} {s.level} root ({role}): not squeezed"
    return words


def scene_labels(model: SpineModel, impact: Impact | None, story: StoryView | None = None) -> list[dict[str, Any]]:
    """Every label for this picture (Plotly ``scene.annotations``).

    The lesion and the squeezed roots are placed first; the levels fill in where there is room.
    Remembered per model, impact and story view (the layout cost tens of milliseconds on every
    rerun, and all three are shared objects that do not change); each call returns fresh dicts.

    Parameters
    ----------
    model : SpineModel
        The healthy meshes.
    impact : Impact or None
        The condition's impact; without it only the levels are labelled.
    story : StoryView, optional
        The view the labels are laid out for (kept inside it, apart from each other and the legend).
    """
    key = (id(model), id(impact), id(story))
    hit = _LABEL_CACHE.get(key)
    # The objects are kept in the entry, so their ids cannot be reused while it lives.
    if hit is None or hit[0] is not model or hit[1] is not impact or hit[2] is not story:
        if len(_LABEL_CACHE) >= _LABEL_CACHE_LIMIT:
            _LABEL_CACHE.pop(next(iter(_LABEL_CACHE)))
        hit = _LABEL_CACHE[key] = (model, impact, story, _scene_labels(model, impact, story))
    return [dict(a) for a in hit[3]]


_LABEL_CACHE: dict[tuple[int, int, int], tuple[SpineModel, Impact | None, StoryView | None, list[dict[str, Any]]]] = {}
_LABEL_CACHE_LIMIT = 512


def _scene_labels(model: SpineModel, impact: Impact | None, story: StoryView | None) -> list[dict[str, Any]]:
    layout = _Layout(story)
    if impact is None:
        return level_labels(model, impact, story, layout)
    meshes = _meshes(model, impact)
    right, up = _screen_side(story)
    lesion = lesion_meshes(impact)
    lesion_pts = np.vstack([m.vertices for m in lesion.values()]) if lesion else np.zeros((0, 3))
    center = lesion_pts.mean(axis=0) if len(lesion_pts) else np.zeros(3)
    focus = np.asarray(impact.lesion.focus, dtype=float)
    # The lesion label sits above the lesion, anchored on the lesion where the condition acts.
    seen: set[str] = set()
    for lid, mesh in lesion.items():
        text = short_lesion_name(impact.lesion.names.get(lid, "Lesion"))
        if text in seen or len(seen) >= MAX_LESION_LABELS:
            continue
        seen.add(text)
        v = mesh.vertices
        point = v[np.argmin(np.linalg.norm(v - focus, axis=1))]
        layout.add(point, text, 50.0 if (point - center) @ right >= 0 else -50.0, -80.0)
    words = root_words(impact)
    squeezed = [sid for sid in words if sid in squeezed_nerves(impact)][:MAX_ROOT_LABELS]
    spared = [sid for sid in words if sid not in squeezed_nerves(impact)]
    for sid in squeezed + spared:
        if sid not in meshes:
            continue
        v = meshes[sid].vertices
        # Anchor where the nerve runs on past the lesion: its part 15-45 mm from the lesion's
        # centre, lowest on the screen (the root leaving the foramen, the nerve below the muscle).
        dist = np.linalg.norm(v - center, axis=1)
        near = v[(dist > 15) & (dist < 45)]
        near = near if len(near) else v
        point = near[np.argmin(near @ up)]
        ax = 70.0 if (point - center) @ right >= 0 else -70.0
        head, _, tail = words[sid].partition(": ")
        layout.add(point, f"{head}:<br>{tail}" if tail else head, ax, 50.0)
    return level_labels(model, impact, story, layout)


def label_texts(labels: list[Mapping[str, Any]]) -> list[str]:
    """The plain text of each label (no markup), for the text description and tests."""
    return [re.sub(r"<[^>]+>", "", str(a["text"]).replace("<br>", " ")) for a in labels]
