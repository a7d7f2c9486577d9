"""Command line: ``python -m explorer {build-models, check-models, structures}``.

Bad arguments get argparse's usage message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="Lumbar Explorer command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("build-models", help="build every mesh and write assets/models/ (baked assets)")
    p.add_argument("--models-dir", default=str(settings.MODELS_DIR), help="where to write (default: %(default)s)")
    p.set_defaults(func=_cmd_build_models)
    p = sub.add_parser("check-models", help="load the baked assets, rebuilding any missing, stale or corrupt")
    p.add_argument("--models-dir", default=str(settings.MODELS_DIR))
    p.add_argument("--no-save", action="store_true", help="do not write rebuilt meshes back")
    p.set_defaults(func=_cmd_check_models)
    p = sub.add_parser("structures", help="list every structure id in the model")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_structures)
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
