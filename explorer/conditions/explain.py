"""The plain summary next to the model: what is squeezed, by what, where, and why that nerve.

Pure text from an Impact; the UI only displays it. Every line is also the text equivalent of the
3D highlight and (later) the body chart.
"""

from __future__ import annotations

from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.rules import expected
from explorer.conditions.simulate import Impact

DEGREE_WORDS: tuple[tuple[float, str], ...] = ((0.3, "slightly"), (0.6, "moderately"), (0.85, "markedly"),
                                              (1.01, "severely"))


def degree_word(degree: float) -> str:
    """Everyday word for a compression degree (0..1)."""
    return next(word for limit, word in DEGREE_WORDS if degree < limit)


CROWDED_ONLY_MM: float = 0.05  # below this depth a squeeze comes from crowding in the sac


def headline(impact: Impact) -> str:
    spec = CONDITIONS[impact.condition]
    parts = [spec.param(k).label_for(v) for k, v in impact.parameters.items()]
    return f"{impact.condition_name}: " + ", ".join(parts)


def squeezed_lines(impact: Impact) -> list[str]:
    """One line per compressed nerve structure, most compressed first."""
    lines = []
    for c in impact.compressed:
        kind = STRUCTURES[c.id].kind
        if kind in ("root", "sciatic", "cauda-equina", "thecal-sac"):
            # A root squeezed only by crowding (the lesion fills the sac around it) has no depth of
            # its own: saying "0.0 mm" beside a high degree would contradict itself.
            how = (f"{c.degree:.0%} of its thickness, {c.depth_mm:.1f} mm" if c.depth_mm >= CROWDED_ONLY_MM
                   else f"{c.degree:.0%}: crowded in the narrowed sac, not touched directly")
            lines.append(f"{c.name}: {degree_word(c.degree)} squeezed ({how}).")
    return lines or ["No nerve is squeezed at this severity: the lesion does not reach a nerve yet."]


def why_line(impact: Impact) -> str:
    """Why this nerve and not its neighbour (traversing vs exiting root)."""
    return expected(impact.condition, impact.parameters).explanation


def findings_lines(impact: Impact) -> dict[str, list[str]]:
    """The clinical picture as short text lines, grouped for display."""
    c = impact.clinical
    label = {"pain": "Pain", "tingling": "Tingling", "numbness": "Numbness"}
    sensory = [f"{label.get(s.kind, s.kind.title())}: {', '.join(s.regions)} ({s.side} {s.root})" for s in c.sensory]
    weakness = [f"Weak: {w.movement} ({w.side} {w.root}; {w.muscle}). Test: {w.test}" for w in c.weakness]
    abnormal = [r for r in c.reflexes if r.finding != "normal"]
    reflexes = [f"{r.reflex.replace('_', ' ').capitalize()} reflex ({r.side}, {r.root}): {r.finding}" for r in abnormal]
    if c.reflexes and not abnormal:
        reflexes = ["Knee, medial hamstring and ankle reflexes: normal on both sides."]
    elif abnormal:
        reflexes.append("Other reflexes: normal.")
    return {"sensory": sensory, "weakness": weakness, "reflexes": reflexes,
            "features": list(c.features), "red_flags": list(c.red_flags), "watch_for": list(c.watch_for)}
