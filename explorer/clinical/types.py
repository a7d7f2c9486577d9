"""Plain data passed between the geometry (which roots are squeezed, how much) and the clinic
(what the person feels and what the examiner finds)."""

from __future__ import annotations

from dataclasses import dataclass, field

ROOT_ORDER: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5")


@dataclass(frozen=True)
class RootHit:
    """A compressed spinal nerve root. ``degree`` 0 (touching) .. 1 (severely squashed)."""

    root: str
    side: str
    degree: float


@dataclass(frozen=True)
class NerveHit:
    """A compressed peripheral nerve (for example the sciatic nerve under piriformis)."""

    nerve: str
    side: str
    degree: float


@dataclass(frozen=True)
class SensoryFinding:
    """Where a symptom is felt: ``kind`` is pain, tingling or numbness; regions are plain-words
    body regions (the body chart draws them later)."""

    root: str
    side: str
    kind: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class WeaknessFinding:
    root: str
    side: str
    movement: str
    muscle: str
    test: str


@dataclass(frozen=True)
class ReflexFinding:
    reflex: str  # patellar | achilles | medial_hamstring
    root: str
    side: str
    finding: str  # normal | reduced | absent


@dataclass(frozen=True)
class ClinicalPicture:
    """What the person feels and what the examiner finds.

    ``red_flags`` are plain sentences, ``red_flag_ids`` the same flags as ids (``saddle_anaesthesia``,
    ``bladder``, ``bowel``, ``sexual_function``, ``bilateral_sciatica``, ``severe_weakness``);
    ``watch_for`` holds calm sentences on what would make the condition an emergency; ``tempo`` is
    ``"acute"`` or ``"chronic"``.
    """

    sensory: tuple[SensoryFinding, ...] = field(default=())
    weakness: tuple[WeaknessFinding, ...] = field(default=())
    reflexes: tuple[ReflexFinding, ...] = field(default=())
    red_flags: tuple[str, ...] = field(default=())
    features: tuple[str, ...] = field(default=())
    red_flag_ids: tuple[str, ...] = field(default=())
    watch_for: tuple[str, ...] = field(default=())
    tempo: str = "acute"
