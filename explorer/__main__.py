"""Command line: ``python -m explorer {conditions, simulate, build-models, check-models, structures, match, validate}``.

Bad arguments get argparse's usage message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

from explorer import settings


def _cmd_build_models(args: argparse.Namespace) -> int:
    from explorer.anatomy.model import bake

    bake(Path(args.models_dir))
    return 0


def _cmd_check_models(args: argparse.Namespace) -> int:
    from explorer.anatomy.model import load_model

    model = load_model(Path(args.models_dir), save_rebuilt=not args.no_save)
    for message in model.messages:
        print(message)
    print(f"{len(model.meshes)} structures, {model.n_triangles} triangles"
          + (" (all baked assets were fresh)" if not model.messages else ""))
    return 0


def _cmd_structures(args: argparse.Namespace) -> int:
    from explorer.anatomy.structures import STRUCTURES

    rows = [{"id": s.id, "name": s.name, "kind": s.kind, "layer": s.layer, "level": s.level, "side": s.side}
            for s in STRUCTURES.values()]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(f"{r['id']:<22} {r['layer']:<8} {r['name']}")
    return 0


def _cmd_conditions(args: argparse.Namespace) -> int:
    from explorer.conditions.registry import CONDITIONS
    from explorer.conditions.stenosis import DependentParamSpec

    rows: list[dict[str, Any]] = [
        {"id": c.id, "name": c.name, "summary": c.summary,
         "parameters": [{"name": p.name, "label": p.label, "values": list(p.values), "default": p.default,
                         "value_labels": dict(p.value_labels),
                         # Labels that depend on another parameter (stenosis severity names the measure
                         # of the zone chosen): other parameter -> its value -> value labels.
                         **({"value_labels_by": {p.depends_on: {k: dict(v) for k, v in p.value_labels_by.items()}}}
                            if isinstance(p, DependentParamSpec) else {}),
                         "applies_when": {k: list(v) for k, v in p.applies_when.items()}} for p in c.params]}
        for c in CONDITIONS.values()]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            params = "; ".join(f"{p['name']}={'|'.join(p['values'])} (default {p['default']})" for p in r["parameters"])
            print(f"{r['id']:<18} {r['name']}: {params}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from explorer.conditions.registry import CONDITIONS
    from explorer.conditions.simulate import simulate

    spec = CONDITIONS.get(args.condition)
    if spec is None:
        print(f"error: unknown condition {args.condition!r}; choose one of {', '.join(CONDITIONS)}", file=sys.stderr)
        return 2
    given = {k: v for k, v in vars(args).items() if k in SIMULATE_PARAMS and v is not None}
    params, errors = spec.validate(given)
    from explorer.anatomy.posture import POSTURES

    if args.posture not in POSTURES:
        errors += ((f"posture {_shortened(args.posture)} is not allowed; use one of {', '.join(POSTURES)} "
                    "(default 'neutral')."),)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 2
    impact = simulate(spec.id, params)
    data = impact.to_json()
    if args.posture != "neutral" and impact.measurements is not None and impact.model is not None:
        from explorer.anatomy.canal import measure_canal

        # Posture moves the segment for the measurements only (the lesion and compression are upright).
        posed = measure_canal(impact.model, impact.measurements.level, impact.lesion, args.posture)
        data["measurements"] = posed.to_json()
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(f"{impact.condition_name} ({data['tempo']}): "
              + ", ".join(f"{k}={v}" for k, v in impact.parameters.items()))
        for c in data["compressed"]:
            print(f"  squeezed: {c['name']:<40} degree {c['degree']:.2f}")
        m = data.get("measurements")
        if m:
            print(f"  canal at {m['level']} ({m['posture']}): dural sac {m['sac_area']['value']} mm2 "
                  f"({m['hamanishi']['value']}), canal AP {m['canal_ap']['value']} mm, Schizas "
                  f"{m['schizas_grade']['value']}")
        for f in data["red_flags"]:
            print(f"  RED FLAG: {f}")
        for w in data["watch_for"]:
            print(f"  watch for: {w}")
    return 0


SIMULATE_PARAMS: tuple[str, ...] = ("level", "zone", "side", "severity", "type", "grade")


def _shortened(value: str, limit: int = 80) -> str:
    """A command-line value quoted and cut to about ``limit`` characters (it may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cmd_match(args: argparse.Namespace) -> int:
    from explorer.clinical.matching import allowed_names, format_text, match_json, parse_side_name

    if args.names:
        names = allowed_names()
        print(json.dumps(names, indent=1) if args.json else
              "\n".join(f"{kind}: {', '.join(values)}" for kind, values in names.items()))
        return 0
    try:
        given = {kind: [parse_side_name(v, f"--{kind}") for v in getattr(args, kind)]
                 for kind in ("area", "weak", "reflex", "normal")}
        if not (given["area"] or given["weak"] or given["reflex"]):
            raise ValueError("give at least one --area, --weak or --reflex (see --names for the allowed names)")
        result = match_json(given["area"], given["weak"], given["reflex"], given["normal"])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1) if args.json else format_text(result))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from explorer.clinical.cases import format_table, load_cases, run_cases, summary_line

    cases, problems = load_cases()
    if args.case is not None:
        wanted = args.case.strip()
        cases = [c for c in cases if c.id == wanted]
        if not cases:
            print(f"error: unknown case {wanted[:80]!r}; list them with `python -m explorer validate --json`",
                  file=sys.stderr)
            return 2
        problems = []  # problems in other cases do not concern a one-case run
    results = run_cases(cases)
    summary = summary_line(results, problems)
    if args.json:
        print(json.dumps({"summary": summary, "results": [r.to_json() for r in results],
                          "problems": [str(p) for p in problems]}, indent=1))
    else:
        print(format_table(results))
        for problem in problems:
            print(f"PROBLEM {problem}")
        print(summary)
    return 0 if results and all(r.passed for r in results) and not problems else 1


@functools.cache
def _shortening(base: type[argparse.ArgumentParser]) -> type[argparse.ArgumentParser]:
    """``base`` made to cut every long argument it quotes in an error to about 80 characters
    (argparse quotes unrecognised arguments and a bad command in full; a pasted value can be
    megabytes). Built from the ``argparse`` in use when the parser is built, so tools that swap
    ``ArgumentParser`` (the CLI fuzzer's recorder) still see every sub-command."""

    class ShorteningParser(base):  # type: ignore[valid-type,misc]  # a class chosen at run time
        _quoted: tuple[str, ...] = ()

        def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
            self._quoted = tuple(sys.argv[1:] if args is None else args)
            return super().parse_known_args(args, namespace)

        def error(self, message: str) -> Any:
            from explorer.state import shorten

            for arg in sorted({a for a in self._quoted if isinstance(a, str) and len(a) > 80}, key=len, reverse=True):
                message = message.replace(repr(arg), repr(shorten(arg))).replace(arg, shorten(arg))
            super().error(message)

    return ShorteningParser


def build_parser() -> argparse.ArgumentParser:
    parser = _shortening(argparse.ArgumentParser)(prog="python -m explorer", description="Lumbar Explorer command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("build-models", help="build every mesh and write assets/models/ (baked assets)")
    p.add_argument("--models-dir", default=str(settings.MODELS_DIR), help="where to write (default: %(default)s)")
    p.set_defaults(func=_cmd_build_models)
    p = sub.add_parser("check-models", help="load the baked assets, rebuilding any missing, stale or corrupt")
    p.add_argument("--models-dir", default=str(settings.MODELS_DIR))
    p.add_argument("--no-save", action="store_true", help="do not write rebuilt meshes back")
    p.set_defaults(func=_cmd_check_models)
    p = sub.add_parser("conditions", help="list the conditions with their parameters, allowed values and defaults")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_conditions)
    p = sub.add_parser("simulate", help="run a condition and print its impact")
    p.add_argument("--condition", required=True, help="condition id (see `conditions`)")
    for name in SIMULATE_PARAMS:
        p.add_argument(f"--{name}", help=f"{name} (parameters that do not apply to the condition are ignored)")
    p.add_argument("--posture", default="neutral",
                   help="flexion, neutral or extension: the posture the canal is measured in (default neutral)")
    p.add_argument("--json", action="store_true", help="print the impact as JSON (with the canal measurements)")
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser("structures", help="list every structure id in the model")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_structures)
    p = sub.add_parser("match", help="rank the nerve roots and nerves that best explain symptoms (for learning)")
    for kind, what in (("area", "a skin area with symptoms"), ("weak", "a weak movement"),
                       ("reflex", "a reduced reflex"), ("normal", "a movement or reflex tested normal")):
        p.add_argument(f"--{kind}", action="append", default=[], metavar="SIDE:NAME",
                       help=f"{what}, e.g. left:\"top of the foot\" (repeatable; see --names)")
    p.add_argument("--names", action="store_true", help="list the allowed area, movement and reflex names")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_match)
    p = sub.add_parser("validate", help="run the clinical case set (content/cases/) and print a table")
    p.add_argument("--case", help="run only the case with this id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
