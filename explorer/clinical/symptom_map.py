"""Where the symptoms of a clinical picture land on the body chart, and the same told in words.

Pure functions over :mod:`explorer.clinical.bodymap`: :func:`paint_areas` gives each named skin
area on each side its strongest symptom (numbness over tingling over pain) and how strong it is;
:func:`pain_paths` gives the route radiating pain takes (through the centres of the root's pain
areas, in the order the roots table lists them); :func:`chart_lines` is the text version of the
chart for screen readers and tests ("Numbness, left leg: top of the foot, big toe (L5 root)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from explorer.clinical.bodymap import Area, areas_named
from explorer.clinical.roots import NERVES
from explorer.clinical.types import ROOT_ORDER, SensoryFinding

# Stronger symptoms win when several findings touch one area.
KIND_ORDER: tuple[str, ...] = ("pain", "tingling", "numbness")
KIND_LABELS: Mapping[str, str] = {"pain": "Pain", "tingling": "Tingling", "numbness": "Numbness"}


@dataclass(frozen=True)
class AreaSymptom:
    """The strongest symptom in one named area on one side.

    Attributes
    ----------
    name : str
        The area's everyday name (a ``BodyRegion.plain``).
    side : str
        ``left`` or ``right``.
    kind : str
        ``pain``, ``tingling`` or ``numbness``.
    degree : float
        0..1, the compression of the worst root or nerve that causes it.
    sources : tuple of str
        The roots or nerves behind it (``L5``, ``sciatic``), worst first.
    """

    name: str
    side: str
    kind: str
    degree: float
    sources: tuple[str, ...]


@dataclass(frozen=True)
class PainPath:
    """Radiating pain from one root or nerve on one side, as a route through area centres."""

    source: str
    side: str
    degree: float
    names: tuple[str, ...]
    points: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]  # (view, [(x, y), ...])


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind)


def paint_areas(
    sensory: Sequence[SensoryFinding], degrees: Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], AreaSymptom]:
    """The strongest symptom per (area name, side).

    Parameters
    ----------
    sensory : sequence of SensoryFinding
        From the clinical picture.
    degrees : mapping of (root or nerve, side) to float
        How squeezed each source is (0..1); sources not listed count as 0.
    """
    out: dict[tuple[str, str], AreaSymptom] = {}
    for finding in sensory:
        degree = float(degrees.get((finding.root, finding.side), 0.0))
        for name in finding.regions:
            key = (name, finding.side)
            old = out.get(key)
            new = AreaSymptom(name, finding.side, finding.kind, degree, (finding.root,))
            if old is None:
                out[key] = new
                continue
            stronger = (_rank(new.kind), new.degree) > (_rank(old.kind), old.degree)
            best, other = (new, old) if stronger else (old, new)
            sources = tuple(dict.fromkeys(best.sources + other.sources))
            out[key] = AreaSymptom(name, finding.side, best.kind, best.degree, sources)
    return out


def _centre(area: Area) -> tuple[float, float]:
    c = area.polygon().representative_point()
    return float(c.x), float(c.y)


def pain_paths(
    sensory: Sequence[SensoryFinding], degrees: Mapping[tuple[str, str], float]
) -> tuple[PainPath, ...]:
    """The route of radiating pain for every painful root or nerve, per view."""
    out = []
    for finding in sensory:
        if finding.kind != "pain":
            continue
        per_view: dict[str, list[tuple[float, float]]] = {}
        for name in finding.regions:
            for area in areas_named(name, finding.side):
                per_view.setdefault(area.view, []).append(_centre(area))
        points = tuple((view, tuple(pts)) for view, pts in per_view.items() if len(pts) >= 2)
        out.append(PainPath(finding.root, finding.side, float(degrees.get((finding.root, finding.side), 0.0)),
                            finding.regions, points))
    return tuple(out)


def _source_label(source: str) -> str:
    return f"{source} root" if source in ROOT_ORDER else NERVES[source].name


def chart_lines(sensory: Sequence[SensoryFinding]) -> list[str]:
    """The chart in words: one line per symptom, side and root or nerve.

    Examples: ``"Numbness, left leg: top of the foot, big toe (L5 root)"``,
    ``"Pain, left leg: buttock → outer back of the thigh → ... (L5 root)"``.
    """
    lines = []
    for kind in reversed(KIND_ORDER):  # numbness first: it matters most to the examiner
        for f in sensory:
            if f.kind != kind or not f.regions:
                continue
            joiner = " → " if kind == "pain" else ", "
            lines.append(f"{KIND_LABELS[kind]}, {f.side} leg: {joiner.join(f.regions)} ({_source_label(f.root)})")
    return lines
