"""Every tunable number and colour in one place (UPPERCASE constants).

Colours follow anatomy-atlas conventions (ivory bone, pale blue-white disc, yellow nerve, red
muscle) and were checked to stay distinguishable under common colour-vision deficiencies: the
classes differ in lightness as well as hue.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
MODELS_DIR: Path = PROJECT_ROOT / "assets" / "models"
MANIFEST_NAME: str = "manifest.json"
STATIC_DIR: Path = Path(__file__).resolve().parent / "static"

# ---------------------------------------------------------------- layers and palette
LAYERS: tuple[str, ...] = ("bones", "pelvis", "discs", "nerves", "muscles")
BONE_LAYERS: tuple[str, ...] = ("bones", "pelvis")  # layers the bone-opacity control applies to
LAYER_LABELS: dict[str, str] = {
    "bones": "Spine bones",
    "pelvis": "Pelvis and thigh bones",
    "discs": "Discs",
    "nerves": "Nerves and dural sac",
    "muscles": "Muscles",
}

# kind -> hex colour
PALETTE: dict[str, str] = {
    "vertebra": "#E9DFC8",
    "sacrum": "#E3D7BC",
    "hip-bone": "#DDD0B3",
    "femur": "#DDD0B3",
    "disc": "#B9D3E6",
    "nucleus": "#4F86C6",
    "thecal-sac": "#C7B9E6",
    "cauda-equina": "#F2C230",
    "conus": "#F2C230",
    "root": "#F5B700",
    "sciatic": "#F5B700",
    "muscle": "#B0413E",
}

# Compression highlight: a blue-leaning magenta. Under deuteranopia/protanopia it reads as
# violet-blue, so it stays distinct from ivory bone, yellow nerve and red muscle, and it is darker
# than bone and nerve (a lightness cue too).
HIGHLIGHT_COLOR: str = "#C51B7D"
SELECTED_COLOR: str = "#00A6D6"  # cyan: the structure the person clicked
# A squeezed nerve, whole, in one magenta whose depth follows how badly it is squeezed: light
# magenta (slight) to deep magenta (severe). One hue, changing lightness, so the degree still
# reads under colour-vision deficiencies and in greyscale. The body chart outlines the squeezed
# root's skin area in SQUEEZE_OUTLINE_COLOR (the same family).
SQUEEZE_COLORSCALE: tuple[tuple[float, str], ...] = (
    (0.0, "#F7A8E0"),
    (0.5, "#E21FA4"),
    (1.0, "#8A005E"),
)
SQUEEZE_FLOOR: float = 0.12  # a barely squeezed nerve still shows the light end, not nerve yellow
SQUEEZE_OUTLINE_COLOR: str = "#D4129A"
SQUEEZE_LEGEND_TITLE: str = "squeezed"
SQUEEZE_LEGEND_ENDS: tuple[str, str] = ("slight", "severe")
# What stands between the camera and the lesion or the squeezed nerve is made this see-through.
SEE_THROUGH_OPACITY: float = 0.12

# kind -> default opacity (1 = solid). The annulus is see-through so the nucleus shows.
OPACITY: dict[str, float] = {
    "disc": 0.45,
    "thecal-sac": 0.30,
}
DEFAULT_BONE_OPACITY: float = 1.0
BONE_OPACITY_CHOICES: tuple[float, ...] = (1.0, 0.6, 0.3)

# Plotly mesh lighting: soft ambient with a gentle specular sheen reads as bone, not plastic.
LIGHTING: dict[str, float] = {
    "ambient": 0.45,
    "diffuse": 0.75,
    "specular": 0.18,
    "roughness": 0.6,
    "fresnel": 0.08,
}
LIGHT_POSITION: dict[str, float] = {"x": 1000.0, "y": 2000.0, "z": 3000.0}
SCENE_BACKGROUND: str = "#0E1726"

# ---------------------------------------------------------------- camera presets
# Plotly scene cameras ("eye" is a direction from the scene centre, in normalised units).
# RAS axes: +x patient's right, +y anterior, +z up.
# "center" lifts the look-at point from the middle of the scene (mid-pelvis) to the sacral base,
# so the lumbar spine, not the thighs, fills the view.
_LOOK_AT_SACRAL_BASE: dict[str, float] = {"x": 0.0, "y": 0.0, "z": 0.3}
CAMERA_PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "oblique": {"eye": {"x": -1.25, "y": -1.15, "z": 0.75}, "center": _LOOK_AT_SACRAL_BASE, "up": {"x": 0, "y": 0, "z": 1}},
    "lateral": {"eye": {"x": -1.8, "y": 0.0, "z": 0.4}, "center": _LOOK_AT_SACRAL_BASE, "up": {"x": 0, "y": 0, "z": 1}},
    "posterior": {"eye": {"x": 0.0, "y": -1.8, "z": 0.4}, "center": _LOOK_AT_SACRAL_BASE, "up": {"x": 0, "y": 0, "z": 1}},
    "anterior": {"eye": {"x": 0.0, "y": 1.8, "z": 0.4}, "center": _LOOK_AT_SACRAL_BASE, "up": {"x": 0, "y": 0, "z": 1}},
    "superior": {"eye": {"x": 0.0, "y": -0.05, "z": 1.75}, "center": _LOOK_AT_SACRAL_BASE, "up": {"x": 0, "y": 1, "z": 0}},
}
CAMERA_LABELS: dict[str, str] = {
    "oblique": "Oblique (back-left)",
    "lateral": "Left side",
    "posterior": "From behind",
    "anterior": "From the front",
    "superior": "From above",
}
# How each view reads in a sentence ("3D model of the lower back seen ...").
CAMERA_PHRASES: dict[str, str] = {
    "oblique": "from behind and to the left",
    "lateral": "from the left side",
    "posterior": "from behind",
    "anterior": "from the front",
    "superior": "from above",
}
DEFAULT_VIEW: str = "oblique"
# The width / height the story view is framed for (the 3D view is about square at 1366x768 and
# wider on a projector, where the framed box then simply has more room around it).
STORY_VIEW_ASPECT: float = 1.0

# ---------------------------------------------------------------- labels in 3D
# Dark text on a light, slightly see-through box: readable over bone, nerve and the dark
# background alike, and large enough for a projector.
LABEL_FONT_PX: int = 15
LABEL_TEXT_COLOR: str = "#111111"
LABEL_BACKGROUND: str = "rgba(255, 255, 255, 0.86)"
LABEL_BORDER: str = "#5A5A5A"
LEVEL_LABEL_FONT_PX: int = 14

# ---------------------------------------------------------------- mesh resolution
SDF_SPACING_MM: float = 0.8  # marching-cubes grid step for bones
SMOOTHING_ITERATIONS: int = 25
# Triangle budgets for the browser (software WebGL costs ~0.4 s per 20k triangles).
TARGET_FACES: dict[str, int] = {
    "vertebra": 4200,
    "sacrum": 5000,
    "hip-bone": 5000,
    "femur": 2500,
    "disc": 900,
    "nucleus": 400,
    "thecal-sac": 1600,
    "cauda-equina": 3000,
    "conus": 500,
    "root": 600,
    "sciatic": 900,
    "muscle": 1200,
}

# --- Body chart (colour-blind-safe Okabe-Ito hues; the symptom kinds also differ by border style).
# No SVG fill patterns: plotly references them by the page URL, which changes with every state
# change here (the URL holds the state), so patterns would turn white after the first change.
SYMPTOM_COLORS: dict[str, str] = {"numbness": "#0072B2", "tingling": "#F0E442", "pain": "#D55E00"}
SYMPTOM_BORDERS: dict[str, str] = {"numbness": "solid", "tingling": "dot", "pain": "dash"}
PAIN_PATH_COLOR: str = "#7F2704"  # darker than the pain fill so the route shows on top of it
CHART_SKIN: str = "#F1EDE8"        # unaffected skin
CHART_OUTLINE: str = "#4A4A4A"     # body outline and area borders
CHART_TEXT: str = "#222222"
MARKED_COLOR: str = "#6A3D9A"      # areas the person marked in the symptoms-to-cause mode
CHART_HEIGHT_PX: int = 620
