"""An independent clinical case set: load, validate and run the cases in ``content/cases/``.

The cases are written from published references, never from the app's output (see
``content/cases/README.md`` for the file format and the expectation vocabulary). Two kinds:

* **vignette**: a condition with its parameters; run through
  :func:`explorer.conditions.simulate.simulate` and checked on which roots and nerves are squeezed
  (degree ``>= PAIN_THRESHOLD``, the degree at which the clinical picture gives symptoms), which is
  squeezed most, which are spared, whether both legs have symptoms, and which red flags are raised;
* **pattern**: what a person reports (areas, weak movements, changed reflexes); run through
  :func:`explorer.clinical.matching.match_json` (CONTRACTS.md) and checked on the ranking.

Loading never raises for a bad file: every problem (YAML syntax, unknown key, unknown id, bad
parameter, unknown reference) becomes a :class:`CaseProblem` that names the file and the case.
Running never raises either: an exception inside the model becomes a failed result with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from explorer.clinical.types import ROOT_ORDER
from explorer.safe_yaml import RefusedYAML, load_strict

CASES_DIR: Path = Path(__file__).resolve().parents[2] / "content" / "cases"
REFERENCES_FILE: str = "references.yaml"

KINDS: tuple[str, ...] = ("vignette", "pattern")
SIDES: tuple[str, ...] = ("left", "right")
# Candidate ids are "<root or nerve>-<side>" (CONTRACTS.md, symptoms matching).
NERVES: tuple[str, ...] = ("sciatic", "common_peroneal", "femoral")
RED_FLAG_IDS: tuple[str, ...] = ("saddle_anaesthesia", "bladder", "bowel", "sexual_function",
                                 "bilateral_sciatica", "severe_weakness")
TEMPOS: tuple[str, ...] = ("acute", "chronic")
# Roots whose skin is the saddle (ISNCSCI 2019 key sensory points: S3 ischial tuberosity, S4-5 perianal).
SADDLE_ROOTS: tuple[str, ...] = ("S3", "S4", "S5")

CASE_KEYS: dict[str, frozenset[str]] = {
    "vignette": frozenset({"id", "kind", "title", "condition", "params", "expect", "sources", "note"}),
    "pattern": frozenset({"id", "kind", "title", "areas", "weak", "reflexes", "normal", "expect", "sources",
                           "note"}),
}
EXPECT_KEYS: dict[str, frozenset[str]] = {
    "vignette": frozenset({"affected", "most_affected", "spared", "bilateral", "red_flags_present",
                           "red_flags_absent", "saddle_affected", "tempo", "reflexes_changed",
                           "reflexes_normal"}),
    "pattern": frozenset({"first", "above", "not_first", "notes_include"}),
}
MAX_FILE_BYTES: int = 512 * 1024  # a case file is hand-written text; anything bigger is a mistake
REFERENCE_KEYS: frozenset[str] = frozenset({"authors", "title", "source", "year", "url"})
CASE_ID_RE = re.compile(r"^[a-z0-9]+([-_][a-z0-9]+)*$")

# Names the contract promises even before ``match --names`` exists (CONTRACTS.md).
CONTRACT_MOVEMENTS: tuple[str, ...] = ("Turning the foot in (foot inversion)", "Turning the foot out (foot eversion)")
CONTRACT_REFLEXES: tuple[str, ...] = ("patellar", "medial_hamstring", "achilles")

# A most-affected root may tie with others within this (degrees are rounded to 0.001 in JSON).
TIE_TOLERANCE: float = 0.005
# "Spared" means clearly less than the worst: under this share of the worst degree, or absent.
SPARED_FRACTION: float = 0.5


@dataclass(frozen=True)
class Reference:
    """A published source a case is written from."""

    key: str
    authors: str
    title: str
    source: str
    year: int
    url: str = ""

    def cite(self) -> str:
        """``"Doe J. A title. Journal 1(1):1-2; 2020."`` (no doubled stop after a title ending in ? or !)."""
        title = self.title if self.title[-1:] in ".?!" else self.title + "."
        return f"{self.authors.rstrip('.')}. {title} {self.source}; {self.year}."


@dataclass(frozen=True)
class Case:
    """One clinical case.

    Attributes
    ----------
    id : str
        Unique id (lowercase words joined by ``-``).
    kind : str
        ``vignette`` or ``pattern``.
    path : Path
        The file the case came from.
    condition, params
        Vignettes: a condition id and its parameter values (validated by the condition's spec).
    areas, weak, reflexes : tuple of (side, name)
        Patterns: what the person reports, as names from ``python -m explorer match --names``.
    normal : tuple of (side, name)
        Patterns: movements or reflexes tested and found normal (what separates a root from a
        nerve, e.g. normal foot inversion in a common fibular palsy).
    expect : dict
        The expected answer (see ``content/cases/README.md``).
    sources : tuple of Reference
        Where the expected answer comes from.
    """

    id: str
    kind: str
    title: str
    path: Path
    expect: Mapping[str, Any]
    sources: tuple[Reference, ...]
    condition: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    areas: tuple[tuple[str, str], ...] = ()
    weak: tuple[tuple[str, str], ...] = ()
    reflexes: tuple[tuple[str, str], ...] = ()
    normal: tuple[tuple[str, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class CaseProblem:
    """Something wrong in a case file, named by file and (when known) case."""

    path: Path
    case_id: str
    message: str

    def __str__(self) -> str:
        where = self.path.name if self.path.parent == CASES_DIR else str(self.path)
        return f"{where}: {'case ' + repr(self.case_id) + ': ' if self.case_id else ''}{self.message}"


@dataclass(frozen=True)
class CaseResult:
    """The outcome of running one case."""

    case: Case
    passed: bool
    expected: str
    got: str
    failures: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.case.id, "kind": self.case.kind, "file": self.case.path.name, "title": self.case.title,
                "passed": self.passed, "expected": self.expected, "got": self.got, "failures": list(self.failures),
                "sources": [r.cite() for r in self.case.sources]}


class _Invalid(Exception):
    """A problem in one case (caught by the loader, never escapes)."""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------------- names


def reflex_ids() -> tuple[str, ...]:
    """Every reflex id a vignette may name: ``patellar-left`` .. ``achilles-right``."""
    return tuple(f"{r}-{s}" for r in CONTRACT_REFLEXES for s in SIDES)


def candidate_ids() -> tuple[str, ...]:
    """Every id a case may name: ``L1-left`` .. ``S5-right``, then the nerves on each side."""
    return tuple(f"{r}-{s}" for r in ROOT_ORDER for s in SIDES) + tuple(f"{n}-{s}" for n in NERVES for s in SIDES)


def allowed_names() -> dict[str, tuple[str, ...]]:
    """Area, movement and reflex names a pattern may use.

    The matcher's own list (``match --names``) when it exists; before that, the body map's areas,
    the current movement table and the names promised in CONTRACTS.md.
    """
    try:
        from explorer.clinical import matching
    except ImportError:  # pragma: no cover - matching is part of the package
        matching = None  # type: ignore[assignment]
    names_fn = getattr(matching, "names_json", None) or getattr(matching, "allowed_names", None)
    if callable(names_fn):
        try:
            data = names_fn()
            return {k: tuple(str(x) for x in data[k]) for k in ("areas", "movements", "reflexes")}
        except (KeyError, TypeError, ValueError):
            names_fn = None  # an unfinished names list: fall back to the tables below
    from explorer.clinical.bodymap import AREA_ROOTS

    movements: tuple[str, ...] = ()
    if matching is not None and callable(getattr(matching, "movement_names", None)):
        movements = tuple(matching.movement_names())
    return {"areas": tuple(AREA_ROOTS),
            "movements": tuple(dict.fromkeys(movements + CONTRACT_MOVEMENTS)),
            "reflexes": CONTRACT_REFLEXES}


def _name_keys(name: str) -> set[str]:
    """Ways a name may be written: whole, or (for movements) the words before the parenthesis."""
    low = name.strip().lower()
    return {low, low.split("(")[0].strip()}


# --------------------------------------------------------------------------------- loading


def read_yaml(path: Path) -> Any:
    """Parse one YAML file safely: bounded size, no anchors or aliases (an alias bomb would expand
    without limit), no deep nesting.

    Raises
    ------
    ValueError
        With a one-line reason naming what is wrong (never a YAML traceback).
    """
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot open it ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        return load_strict(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RefusedYAML as exc:  # an anchor, an alias, or nesting too deep
        raise ValueError(f"YAML {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {' '.join(str(exc).split())[:200]}") from None


def load_references(path: Path) -> tuple[dict[str, Reference], list[CaseProblem]]:
    """Read ``references.yaml``: a mapping key -> {authors, title, source, year, url?}."""
    problems: list[CaseProblem] = []
    try:
        raw = read_yaml(path)
    except ValueError as exc:
        return {}, [CaseProblem(path, "", f"cannot read the references: {exc}")]
    if not isinstance(raw, dict):
        return {}, [CaseProblem(path, "", "must be a mapping of reference key -> reference")]
    refs: dict[str, Reference] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict):
            problems.append(CaseProblem(path, "", f"reference {_short(key)} must be a mapping"))
            continue
        unknown = set(entry) - REFERENCE_KEYS
        missing = {"authors", "title", "source", "year"} - set(entry)
        if unknown or missing:
            problems.append(CaseProblem(path, "", f"reference {_short(key)}: "
                                        + (f"unknown keys {sorted(map(str, unknown))} " if unknown else "")
                                        + (f"missing {sorted(missing)}" if missing else "")))
            continue
        year = entry["year"]
        if not isinstance(year, int) or not 1800 <= year <= 2100:
            problems.append(CaseProblem(path, "", f"reference {_short(key)}: year {_short(year)} is not a year"))
            continue
        url = str(entry.get("url", ""))
        if url and not url.startswith("https://"):
            problems.append(CaseProblem(path, "", f"reference {_short(key)}: url must start with https://"))
            continue
        refs[str(key)] = Reference(str(key), str(entry["authors"]).strip(), str(entry["title"]).strip(),
                                   str(entry["source"]).strip(), year, url)
    return refs, problems


def _id_list(value: Any, what: str, allowed: Sequence[str]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{what} must be a non-empty list of ids, got {_short(value)}")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise _Invalid(f"{what}: unknown id {_short(bad[0])}; use ids like L5-left, S1-right, sciatic-left "
                       f"(roots {ROOT_ORDER[0]}..{ROOT_ORDER[-1]}, nerves {', '.join(NERVES)})")
    return list(value)


def _flag_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{what} must be a non-empty list of red flag ids, got {_short(value)}")
    bad = [v for v in value if v not in RED_FLAG_IDS]
    if bad:
        raise _Invalid(f"{what}: unknown red flag {_short(bad[0])}; use {', '.join(RED_FLAG_IDS)}")
    return list(value)


def _check_expect(kind: str, expect: Any) -> dict[str, Any]:
    if not isinstance(expect, dict) or not expect:
        raise _Invalid(f"expect must be a non-empty mapping, got {_short(expect)}")
    unknown = sorted(set(map(str, expect)) - EXPECT_KEYS[kind])
    if unknown:
        raise _Invalid(f"unknown expect key {_short(unknown[0])} for a {kind}; "
                       f"use {', '.join(sorted(EXPECT_KEYS[kind]))}")
    ids = candidate_ids()
    out: dict[str, Any] = {}
    for key, value in expect.items():
        if key in ("affected", "most_affected", "spared", "first", "not_first"):
            out[key] = _id_list(value, key, ids)
        elif key in ("red_flags_present", "red_flags_absent"):
            out[key] = _flag_list(value, key)
        elif key in ("reflexes_changed", "reflexes_normal"):
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise _Invalid(f"{key} must be a non-empty list of reflex ids, got {_short(value)}")
            bad = [v for v in value if v not in reflex_ids()]
            if bad:
                raise _Invalid(f"{key}: unknown reflex {_short(bad[0])}; use {', '.join(reflex_ids())}")
            out[key] = list(value)
        elif key in ("bilateral", "saddle_affected"):
            if not isinstance(value, bool):
                raise _Invalid(f"{key} must be true or false, got {_short(value)}")
            out[key] = value
        elif key == "tempo":
            if value not in TEMPOS:
                raise _Invalid(f"tempo {_short(value)} is not allowed; use {' or '.join(TEMPOS)}")
            out[key] = value
        elif key == "above":
            if not isinstance(value, list) or not value:
                raise _Invalid(f"above must be a non-empty list of [higher, lower] pairs, got {_short(value)}")
            pairs = []
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _Invalid(f"above: each entry must be a pair [higher, lower], got {_short(pair)}")
                pairs.append(tuple(_id_list(pair, "above", ids)))
            out[key] = pairs
        elif key == "notes_include":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                raise _Invalid(f"notes_include must be a non-empty list of words, got {_short(value)}")
            out[key] = [v.strip() for v in value]
    both = set(out.get("red_flags_present", ())) & set(out.get("red_flags_absent", ()))
    if both:
        raise _Invalid(f"red flag {min(both)!r} is both present and absent")
    clash = set(out.get("most_affected", ())) & set(out.get("spared", ()))
    clash |= set(out.get("affected", ())) & set(out.get("spared", ()))
    if clash:
        raise _Invalid(f"{min(clash)!r} is both affected and spared")
    if set(out.get("reflexes_changed", ())) & set(out.get("reflexes_normal", ())):
        raise _Invalid("a reflex is both changed and normal")
    if set(out.get("first", ())) & set(out.get("not_first", ())):
        raise _Invalid("an id is both in first and in not_first")
    return out


def _reported(value: Any, what: str, allowed: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Parse ``["left: top of the foot", ...]`` into ((side, name), ...) with the allowed spelling."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{what} must be a list of 'side: name' strings, got {_short(value)}")
    lookup: dict[str, str] = {}
    for name in allowed:
        for k in _name_keys(name):
            lookup.setdefault(k, name)
    out: list[tuple[str, str]] = []
    for item in value:
        side, sep, name = item.partition(":")
        side, name = side.strip().lower(), name.strip()
        if not sep or side not in SIDES:
            raise _Invalid(f"{what}: {_short(item)} must be written 'left: name' or 'right: name'")
        canonical = lookup.get(name.lower())
        if canonical is None:
            raise _Invalid(f"{what}: unknown name {_short(name)}; allowed: {', '.join(allowed)}")
        out.append((side, canonical))
    return tuple(out)


def _check_params(condition: Any, params: Any) -> tuple[str, dict[str, str]]:
    from explorer.conditions.registry import CONDITIONS

    if condition not in CONDITIONS:
        raise _Invalid(f"unknown condition {_short(condition)}; use one of {', '.join(CONDITIONS)}")
    spec = CONDITIONS[condition]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _Invalid(f"params must be a mapping, got {_short(params)}")
    names = {p.name for p in spec.params}
    unknown = sorted(set(map(str, params)) - names)
    if unknown:
        raise _Invalid(f"{spec.name}: unknown parameter {_short(unknown[0])}; use {', '.join(sorted(names))}")
    raw = {str(k): str(v) for k, v in params.items()}
    clean, errors = spec.validate(raw)
    if errors:
        raise _Invalid(errors[0])
    for p in spec.params:
        if p.name in raw and not p.applies(clean):
            raise _Invalid(f"{spec.name}: parameter {p.name!r} does not apply to these values "
                           f"(it applies when {dict(p.applies_when)})")
    return str(condition), {k: clean[k] for k in raw}


def _parse_case(entry: Any, path: Path, refs: Mapping[str, Reference],
                names: Mapping[str, tuple[str, ...]]) -> Case:
    if not isinstance(entry, dict):
        raise _Invalid(f"each case must be a mapping, got {_short(entry)}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise _Invalid(f"kind {_short(kind)} is not allowed; use {' or '.join(KINDS)}")
    unknown = sorted(set(map(str, entry)) - CASE_KEYS[kind])
    if unknown:
        raise _Invalid(f"unknown key {_short(unknown[0])} for a {kind}; use {', '.join(sorted(CASE_KEYS[kind]))}")
    for key in ("title", "expect", "sources"):
        if key not in entry:
            raise _Invalid(f"missing {key}")
    title = entry["title"]
    if not isinstance(title, str) or not title.strip():
        raise _Invalid("title must be a non-empty string")
    sources = entry["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise _Invalid(f"sources must be a non-empty list of reference keys, got {_short(sources)}")
    missing = [s for s in sources if s not in refs]
    if missing:
        raise _Invalid(f"unknown reference {_short(missing[0])}; add it to {REFERENCES_FILE}")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise _Invalid("note must be a string")
    expect = _check_expect(kind, entry["expect"])
    common = {"id": entry["id"], "kind": kind, "title": title.strip(), "path": path, "expect": expect,
              "sources": tuple(refs[s] for s in sources), "note": note.strip()}
    if kind == "vignette":
        if "condition" not in entry:
            raise _Invalid("missing condition")
        condition, params = _check_params(entry["condition"], entry.get("params"))
        return Case(condition=condition, params=params, **common)
    areas = _reported(entry.get("areas"), "areas", names["areas"])
    weak = _reported(entry.get("weak"), "weak", names["movements"])
    reflexes = _reported(entry.get("reflexes"), "reflexes", names["reflexes"])
    normal = _reported(entry.get("normal"), "normal", names["movements"] + names["reflexes"])
    if not (areas or weak or reflexes):
        raise _Invalid("a pattern needs at least one of areas, weak, reflexes")
    both = set(normal) & (set(weak) | set(reflexes))
    if both:
        side, name = min(both)
        raise _Invalid(f"{side}: {name} is both abnormal and normal")
    return Case(areas=areas, weak=weak, reflexes=reflexes, normal=normal, **common)


def load_cases(root: Path = CASES_DIR) -> tuple[list[Case], list[CaseProblem]]:
    """Every case under ``root`` (``*.yaml`` except ``references.yaml``); never raises for a bad file.

    Returns
    -------
    cases : list of Case
        The valid cases, in file then file order.
    problems : list of CaseProblem
        One entry per bad file or bad case (the rest of a file still loads).
    """
    root = Path(root)
    problems: list[CaseProblem] = []
    if not root.is_dir():
        return [], [CaseProblem(root, "", "the case folder does not exist")]
    refs, ref_problems = load_references(root / REFERENCES_FILE)
    problems += ref_problems
    names = allowed_names()
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.name != REFERENCES_FILE)
    for path in files:
        try:
            data = read_yaml(path)
        except ValueError as exc:
            problems.append(CaseProblem(path, "", f"cannot read the file: {exc}"))
            continue
        if not isinstance(data, list):
            problems.append(CaseProblem(path, "", f"must be a YAML list of cases, got {type(data).__name__}"))
            continue
        for i, entry in enumerate(data, start=1):
            case_id = entry.get("id") if isinstance(entry, dict) else None
            label = case_id if isinstance(case_id, str) else f"#{i}"
            try:
                if not isinstance(case_id, str) or not CASE_ID_RE.match(case_id):
                    raise _Invalid(f"id {_short(case_id)} must be lowercase words joined by - (for example "
                                   "'herniation-l4-l5-paracentral-left')")
                if case_id in seen:
                    raise _Invalid(f"duplicate id (first in {seen[case_id].name})")
                case = _parse_case(entry, path, refs, names)
            except _Invalid as exc:
                problems.append(CaseProblem(path, label, str(exc)))
                continue
            seen[case.id] = path
            cases.append(case)
    return cases, problems


# --------------------------------------------------------------------------------- running


def _pain_threshold() -> float:
    from explorer.clinical.picture import PAIN_THRESHOLD

    return float(PAIN_THRESHOLD)


def describe_expectation(case: Case) -> str:
    """The expected answer in a few words (for the table)."""
    e = case.expect
    parts: list[str] = []
    labels = (("affected", "affected"), ("most_affected", "worst"), ("spared", "spared"), ("first", "first"),
              ("not_first", "not first"))
    for key, label in labels:
        if key in e:
            parts.append(f"{label} {'|'.join(e[key]) if key in ('most_affected', 'first') else ','.join(e[key])}")
    if "above" in e:
        parts.append("; ".join(f"{a}>{b}" for a, b in e["above"]))
    if "bilateral" in e:
        parts.append("both legs" if e["bilateral"] else "one leg")
    if "red_flags_present" in e:
        parts.append("flags " + ",".join(e["red_flags_present"]))
    if "red_flags_absent" in e:
        parts.append("no " + ",".join(e["red_flags_absent"]))
    if "saddle_affected" in e:
        parts.append("saddle " + ("affected" if e["saddle_affected"] else "spared"))
    if "reflexes_changed" in e:
        parts.append("reflex changed " + ",".join(e["reflexes_changed"]))
    if "reflexes_normal" in e:
        parts.append("reflex normal " + ",".join(e["reflexes_normal"]))
    if "tempo" in e:
        parts.append(e["tempo"])
    if "notes_include" in e:
        parts.append("notes mention " + ",".join(e["notes_include"]))
    return "; ".join(parts)


def evaluate_vignette(expect: Mapping[str, Any], data: Mapping[str, Any], pain: float) -> tuple[list[str], str]:
    """Check an impact (``Impact.to_json()``) against a vignette's expectation.

    Returns
    -------
    failures : list of str
        One plain sentence per unmet expectation (empty: pass).
    got : str
        What the model gave, in a few words.
    """
    degrees: dict[str, float] = {}
    for r in data.get("roots", []):
        key = f"{r['root']}-{r['side']}"
        degrees[key] = max(degrees.get(key, 0.0), float(r["degree"]))
    for n in data.get("nerves", []):
        key = f"{n['nerve']}-{n['side']}"
        degrees[key] = max(degrees.get(key, 0.0), float(n["degree"]))
    worst = max(degrees.values(), default=0.0)
    flags = data.get("red_flag_ids")
    sides = {k.rsplit("-", 1)[1] for k, d in degrees.items() if d >= pain}
    saddle = sorted({f"{s['root']}-{s['side']}" for s in data.get("sensory", []) if s.get("root") in SADDLE_ROOTS})
    fails: list[str] = []

    def deg(i: str) -> float:
        return degrees.get(i, 0.0)

    for i in expect.get("affected", ()):
        if deg(i) < pain:
            fails.append(f"{i} should have symptoms (degree >= {pain:g}) but is at {deg(i):.3f}")
    if "most_affected" in expect:
        best = expect["most_affected"]
        if not any(deg(i) > 0 and deg(i) >= worst - TIE_TOLERANCE for i in best):
            top = max(degrees, key=deg) if degrees else "nothing"
            fails.append(f"the most squeezed should be {' or '.join(best)} but it is {top} ({worst:.2f}; "
                         + ", ".join(f"{i} {deg(i):.2f}" for i in best) + ")")
    for i in expect.get("spared", ()):
        if worst > 0 and deg(i) >= SPARED_FRACTION * worst:
            fails.append(f"{i} should be spared (under half of the worst, {worst:.3f}) but is at {deg(i):.3f}")
    if "bilateral" in expect and (len(sides) == 2) != expect["bilateral"]:
        fails.append("symptoms should be in both legs" if expect["bilateral"]
                     else f"symptoms should be in one leg only, got both ({', '.join(sorted(sides))})")
    if "red_flags_present" in expect or "red_flags_absent" in expect:
        if flags is None:
            fails.append("the impact has no red_flag_ids (CONTRACTS.md: Impact.to_json()['red_flag_ids'])")
        else:
            missing = [f for f in expect.get("red_flags_present", ()) if f not in flags]
            extra = [f for f in expect.get("red_flags_absent", ()) if f in flags]
            if missing:
                fails.append(f"red flags missing: {', '.join(missing)}")
            if extra:
                fails.append(f"red flags that should not be raised: {', '.join(extra)}")
    if "saddle_affected" in expect and bool(saddle) != expect["saddle_affected"]:
        fails.append(f"saddle symptoms from {', '.join(saddle)}, expected none" if saddle
                     else "the saddle (S3-S5) should have symptoms but has none")
    grade = {"normal": 0, "reduced": 1, "absent": 2}
    reflexes: dict[str, str] = {}
    for r in data.get("reflexes", []):
        key = f"{r['reflex']}-{r['side']}"
        if grade.get(r["finding"], 0) >= grade.get(reflexes.get(key, "normal"), 0):
            reflexes[key] = r["finding"]
    for i in expect.get("reflexes_changed", ()):
        if reflexes.get(i, "normal") == "normal":
            fails.append(f"the {i} reflex should be reduced or absent but is normal")
    for i in expect.get("reflexes_normal", ()):
        if reflexes.get(i, "normal") != "normal":
            fails.append(f"the {i} reflex should be normal but is {reflexes[i]}")
    if "tempo" in expect and data.get("tempo") != expect["tempo"]:
        fails.append(f"tempo should be {expect['tempo']}, got {data.get('tempo')!r}")
    ranked = sorted(degrees.items(), key=lambda kv: -kv[1])
    got = ", ".join(f"{k} {d:.2f}" for k, d in ranked[:5] if d > 0) or "nothing squeezed"
    if len(ranked) > 5:
        got += f" (+{len(ranked) - 5})"
    got += "; flags " + (",".join(flags) if flags else ("none" if flags is not None else "n/a"))
    if saddle:
        got += "; saddle"
    if "tempo" in expect:
        got += f"; {data.get('tempo')}"
    if "reflexes_changed" in expect or "reflexes_normal" in expect:
        changed = [f"{k} {v}" for k, v in sorted(reflexes.items()) if v != "normal"]
        got += "; reflexes " + (", ".join(changed) if changed else "normal")
    return fails, got


def evaluate_pattern(expect: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[list[str], str]:
    """Check a ``match_json`` result against a pattern's expectation (see :func:`evaluate_vignette`)."""
    candidates = list(data.get("candidates", []))
    ids = [str(c.get("id")) for c in candidates]
    tied = {str(c.get("id")): set(map(str, c.get("tied_with", []) or [])) for c in candidates}
    group = ({ids[0]} | tied[ids[0]]) if ids else set()
    fails: list[str] = []
    if "first" in expect and not group & set(expect["first"]):
        fails.append(f"first should be {' or '.join(expect['first'])}, got "
                     + (" = ".join(sorted(group)) if group else "no candidate"))
    if "not_first" in expect and group and group <= set(expect["not_first"]):
        fails.append(f"{' = '.join(sorted(group))} should not rank first")
    for a, b in expect.get("above", ()):
        if a not in ids:
            fails.append(f"{a} should rank above {b} but is not a candidate")
        elif b in ids and (ids.index(a) > ids.index(b) or b in tied[a] or a in tied[b]):
            how = "ties with" if (b in tied[a] or a in tied[b]) else "ranks below"
            fails.append(f"{a} should rank above {b} but {how} it ({ids.index(a) + 1} vs {ids.index(b) + 1})")
    notes = " ".join(str(n) for n in data.get("notes", [])).lower()
    for word in expect.get("notes_include", ()):
        if word.lower() not in notes:
            fails.append(f"the notes should mention {word!r}")

    def show(c: Mapping[str, Any]) -> str:
        fit = f" {c.get('fits')}/{c.get('of')}" if "fits" in c else ""
        return f"{c.get('id')}{fit}" + (" (tie)" if c.get("tied_with") else "")

    got = ", ".join(show(c) for c in candidates[:4]) or "no candidates"
    if "notes_include" in expect:
        got += f"; {len(data.get('notes', []))} notes"
    return fails, got


def _load_match_json() -> Callable[..., dict] | None:
    try:
        from explorer.clinical import matching
    except ImportError:
        return None
    fn = getattr(matching, "match_json", None)
    return fn if callable(fn) else None


def run_case(case: Case) -> CaseResult:
    """Run one case; exceptions inside the model become a failed result with the reason."""
    expected = describe_expectation(case)
    try:
        if case.kind == "vignette":
            from explorer.conditions.simulate import simulate

            data = simulate(case.condition, case.params).to_json()
            fails, got = evaluate_vignette(case.expect, data, _pain_threshold())
        else:
            match_json = _load_match_json()
            if match_json is None:
                return CaseResult(case, False, expected, "n/a",
                                  ("explorer.clinical.matching.match_json does not exist yet (CONTRACTS.md)",))
            args = [list(case.areas), list(case.weak), list(case.reflexes)]
            # ``normal`` goes beyond the contract's three lists: pass it only when the case has it.
            data = match_json(*args, list(case.normal)) if case.normal else match_json(*args)
            fails, got = evaluate_pattern(case.expect, data)
    except Exception as exc:  # noqa: BLE001 - a broken model must be reported, not crash the run
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        return CaseResult(case, False, expected, "error", (reason,))
    return CaseResult(case, not fails, expected, got, tuple(fails))


def run_cases(cases: Iterable[Case]) -> list[CaseResult]:
    return [run_case(c) for c in cases]


def summary_line(results: Sequence[CaseResult], problems: Sequence[CaseProblem] = ()) -> str:
    """``"92 cases: 80 passed, 12 failed (vignettes 60/67, patterns 20/25)"``, plus file problems."""
    def count(kind: str) -> str:
        mine = [r for r in results if r.case.kind == kind]
        return f"{kind}s {sum(r.passed for r in mine)}/{len(mine)}"

    passed = sum(r.passed for r in results)
    line = (f"{len(results)} cases: {passed} passed, {len(results) - passed} failed "
            f"({count('vignette')}, {count('pattern')})")
    if problems:
        line += f"; {len(problems)} problem{'s' if len(problems) != 1 else ''} in the case files"
    return line


def format_table(results: Sequence[CaseResult], width: int = 56) -> str:
    """A plain-text table: case id, kind, expected, got, PASS/FAIL; failure reasons below it."""
    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 3] + "..."

    idw = max([len("case")] + [len(r.case.id) for r in results])
    head = f"{'case':<{idw}}  {'kind':<8}  {'expected':<{width}}  {'got':<{width}}  result"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.case.id:<{idw}}  {r.case.kind:<8}  {cut(r.expected):<{width}}  {cut(r.got):<{width}}  "
                     f"{'PASS' if r.passed else 'FAIL'}")
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", "Failures:"]
        for r in failed:
            lines.append(f"  {r.case.id} ({r.case.path.name}): got {r.got}")
            lines += [f"    - {f}" for f in r.failures]
    return "\n".join(lines)
