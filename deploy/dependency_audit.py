"""Dependency audit that runs offline: the installed versions against a committed advisory snapshot.

Why a snapshot: CI and the development machines reach PyPI but not osv.dev or GitHub, so a scanner
that asks an advisory service at test time either fails or skips every package. Instead a
maintainer with network refreshes ``deploy/advisories.json`` (the advisories PyPI publishes for each
dependency, OSV/PYSEC records with their fixed versions), commits it, and CI checks the installed
environment against it without any network:

    python deploy/dependency_audit.py check      # offline; exit 1 with one line per problem
    python deploy/dependency_audit.py refresh    # network (PyPI's JSON API); rewrites the snapshot

``check`` (and ``tests/test_dependency_audit.py``) fails when

* a package the requirements install (``requirements*.txt`` and everything they pull in, resolved
  from the installed metadata) is missing from the snapshot, or the snapshot audited another
  version of it (a pin changed without a refresh);
* an advisory in the snapshot affects the installed version (not withdrawn, and the version is not
  at or past a fixed version of its own release series);
* a package's advisories were not read for its installed version (``coverage`` other than
  ``release`` or ``newest``) and it is not listed, with a reason, under ``accepted_partial``.

Where the data comes from (``refresh``): PyPI's JSON API, ``/pypi/<name>/<version>/json`` (the
advisories of that release) and, where that address is not served, ``/pypi/<name>/json`` (the
advisories of the newest release). When the installed version is the newest, both say the same;
when it is older, the newest release's open advisories are recorded (and count as affecting it),
but one fixed between the installed and the newest release cannot be seen: ``coverage`` says
``partial`` and the check fails unless the package is accepted with a reason. PyPI's own JSON API
documentation describes the ``vulnerabilities`` field (ids, aliases, ``fixed_in``, ``withdrawn``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "deploy" / "advisories.json"
# The resolved versions of everything the requirements install (requirements-dev.txt applies it with
# ``-c``): the audited set is the same on every machine, and a new release of a transitive
# dependency cannot turn CI red (or slip in unaudited) by itself. Written by ``refresh``.
CONSTRAINTS = ROOT / "deploy" / "constraints.txt"
REQUIREMENT_FILES: tuple[Path, ...] = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
# This project itself (installed editable by requirements.txt): not a PyPI package. A different
# project of the same name exists on PyPI, so it must never be looked up there.
OWN_DISTRIBUTIONS: frozenset[str] = frozenset({"explorer"})
PYPI = "https://pypi.org/pypi"
SCHEMA = 1
# How completely a package's advisories were read for its installed version.
EXACT_COVERAGE: frozenset[str] = frozenset({"release", "newest"})


# --------------------------------------------------------------------------- the installed set
def requirement_names(files: Iterable[Path]) -> dict[str, frozenset[str]]:
    """Canonical names (with requested extras) pinned by requirement files, following ``-r``.

    Options and editable lines (``-e .``, this project) are skipped; the project's own dependencies
    are pinned in requirements.txt.
    """
    names: dict[str, frozenset[str]] = {}
    seen: set[Path] = set()
    todo = [Path(f) for f in files]
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("-c ", "--constraint ")):
                continue  # versions, not requirements
            if line.startswith(("-r ", "--requirement ")):
                todo.append(path.parent / line.split(None, 1)[1])
                continue
            if line.startswith("-"):
                continue
            req = Requirement(line)
            key = canonicalize_name(req.name)
            names[key] = names.get(key, frozenset()) | frozenset(req.extras)
    return names


def installed_closure(roots: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """Every installed distribution the ``roots`` pull in (name -> installed version).

    Dependencies are followed through the installed metadata (``Requires-Dist``), with environment
    markers evaluated for this interpreter and the extras actually requested. A root that is not
    installed is reported by :func:`audit` (it has no version here).
    """
    found: dict[str, str] = {}
    extras_done: dict[str, set[str]] = {}
    todo: list[tuple[str, frozenset[str]]] = list(roots.items())
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in OWN_DISTRIBUTIONS:
            continue
        wanted = {""} | set(extras)
        done = extras_done.setdefault(key, set())
        if key in found and wanted <= done:
            continue
        try:
            dist = metadata.distribution(key)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist.version
        for extra in wanted - done:
            for spec in dist.requires or []:
                try:
                    req = Requirement(spec)
                except InvalidRequirement:
                    continue
                if req.marker is None or req.marker.evaluate({"extra": extra}):
                    todo.append((req.name, frozenset(req.extras)))
        done |= wanted
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class Problem:
    package: str
    kind: str  # "missing", "version", "vulnerable", "partial", "not installed"
    text: str

    def __str__(self) -> str:
        return f"{self.package}: {self.text}"


def _version(text: str) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def affects(installed: str, advisory: Mapping[str, Any]) -> bool:
    """True when ``advisory`` applies to version ``installed``.

    Withdrawn advisories never do. Without fixed versions it does (no fix released). Otherwise the
    installed version is safe when it is at or past every fixed version, or at or past a fixed
    version of its own release series (same major.minor: ``fixed_in`` ``["1.2.5", "2.0.1"]`` makes
    1.2.6 safe and 2.0.0 affected). An unreadable version counts as affected.
    """
    if advisory.get("withdrawn"):
        return False
    version = _version(installed)
    if version is None:
        return True
    fixed = [v for v in (_version(f) for f in advisory.get("fixed_in") or ()) if v is not None]
    if not fixed:
        return True
    if version >= max(fixed):
        return False
    return not any(f <= version and f.release[:2] == version.release[:2] for f in fixed)


def load_snapshot(path: Path = SNAPSHOT) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("packages"), dict):
        raise ValueError(f"{path}: not an advisory snapshot of schema {SCHEMA}")
    return data


def audit(snapshot: Mapping[str, Any], installed: Mapping[str, str], roots: Iterable[str] = ()) -> list[Problem]:
    """Problems of the ``installed`` packages (name -> version) against ``snapshot``.

    ``roots`` are the names the requirement files pin: one that is not installed is a problem too
    (the audit would otherwise pass on an environment that lacks it).
    """
    problems: list[Problem] = []
    packages: Mapping[str, Any] = snapshot.get("packages", {})
    accepted: Mapping[str, Any] = snapshot.get("accepted_partial", {}) or {}
    for name in sorted(set(roots) - set(installed) - OWN_DISTRIBUTIONS):
        problems.append(Problem(name, "not installed", "pinned by the requirements but not installed"))
    for name, version in sorted(installed.items()):
        entry = packages.get(name)
        if not isinstance(entry, Mapping):
            problems.append(Problem(name, "missing", f"{version} is installed but not in the snapshot "
                                    "(run: python deploy/dependency_audit.py refresh)"))
            continue
        if str(entry.get("version")) != version:
            problems.append(Problem(name, "version", f"{version} is installed but the snapshot audited "
                                    f"{entry.get('version')} (run: python deploy/dependency_audit.py refresh)"))
            continue
        for advisory in entry.get("advisories") or ():
            if affects(version, advisory):
                ids = ", ".join([str(advisory.get("id", "?")), *map(str, advisory.get("aliases") or ())])
                fixed = ", ".join(map(str, advisory.get("fixed_in") or ())) or "no fixed release"
                problems.append(Problem(name, "vulnerable", f"{version} is affected by {ids} (fixed in: {fixed})"))
        coverage = entry.get("coverage")
        if coverage not in EXACT_COVERAGE:
            reason = accepted.get(name)
            if not (isinstance(reason, Mapping) and reason.get("version") == version and reason.get("reason")):
                problems.append(Problem(name, "partial", f"{version}: advisories were read only for the newest "
                                        f"release {entry.get('newest')} (coverage {coverage!r}); upgrade the pin, "
                                        "refresh with network, or accept it with a reason under accepted_partial"))
    return problems


def check(snapshot_path: Path = SNAPSHOT, requirement_files: Iterable[Path] = REQUIREMENT_FILES) -> list[Problem]:
    """The offline audit of this environment (no network)."""
    roots = requirement_names(requirement_files)
    return audit(load_snapshot(snapshot_path), installed_closure(roots), roots)


# --------------------------------------------------------------------------- the refresh (network)
def _get_json(url: str, timeout: float) -> dict[str, Any] | None:
    """The JSON at ``url``; None for 404 (that address not served); other failures raise."""
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "lumbar-explorer-dependency-audit"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # a fixed https URL
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return data if isinstance(data, dict) else None


def _advisories(raw: object) -> list[dict[str, Any]]:
    keep = ("id", "aliases", "fixed_in", "summary", "link", "withdrawn")
    out = []
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict):
            record = {k: item.get(k) for k in keep}
            if isinstance(record["summary"], str) or isinstance(item.get("details"), str):
                text = record["summary"] or item.get("details") or ""
                record["summary"] = re.sub(r"\s+", " ", str(text)).strip()[:300]
            out.append(record)
    return sorted(out, key=lambda a: str(a.get("id")))


def fetch_entry(name: str, version: str, timeout: float = 30.0) -> dict[str, Any]:
    """One package's snapshot entry, from PyPI's JSON API (see the module docstring)."""
    release = _get_json(f"{PYPI}/{name}/{version}/json", timeout)
    project = _get_json(f"{PYPI}/{name}/json", timeout)
    if project is None:
        raise LookupError(f"{name}: PyPI has no project of that name")
    newest = str(project.get("info", {}).get("version", ""))
    if release is not None:
        return {"version": version, "newest": newest, "coverage": "release",
                "advisories": _advisories(release.get("vulnerabilities"))}
    if version not in (project.get("releases") or {}):
        raise LookupError(f"{name}: PyPI lists no release {version}")
    return {"version": version, "newest": newest, "coverage": "newest" if newest == version else "partial",
            "advisories": _advisories(project.get("vulnerabilities"))}


def constraints_text(installed: Mapping[str, str]) -> str:
    lines = ["# Written by `python deploy/dependency_audit.py refresh` from the installed closure of",
             "# requirements*.txt (audited in deploy/advisories.json). Applied by requirements-dev.txt (-c).",
             *(f"{name}=={version}" for name, version in sorted(installed.items()))]
    return "\n".join(lines) + "\n"


def read_constraints(path: Path = CONSTRAINTS) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def refresh(snapshot_path: Path = SNAPSHOT, requirement_files: Iterable[Path] = REQUIREMENT_FILES,
            timeout: float = 30.0, constraints_path: Path | None = CONSTRAINTS) -> dict[str, Any]:
    """Rebuild the snapshot for the installed closure of the requirements (needs PyPI).

    Any failed lookup stops the refresh (a snapshot with holes would pass packages it never read).
    ``accepted_partial`` entries are kept while their version is still installed.
    """
    installed = installed_closure(requirement_names(requirement_files))
    old: dict[str, Any] = {}
    if snapshot_path.exists():
        try:
            old = load_snapshot(snapshot_path)
        except ValueError:
            old = {}
    packages = {}
    for name, version in installed.items():
        packages[name] = fetch_entry(name, version, timeout)
        print(f"{name} {version}: {packages[name]['coverage']}, {len(packages[name]['advisories'])} advisories",
              file=sys.stderr)
    accepted = {n: a for n, a in (old.get("accepted_partial") or {}).items()
                if isinstance(a, dict) and installed.get(n) == a.get("version")}
    snapshot = {
        "schema": SCHEMA,
        "refreshed": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": "PyPI JSON API: /pypi/<name>/<version>/json, else /pypi/<name>/json (newest release)",
        "packages": packages,
        "accepted_partial": accepted,
    }
    snapshot_path.write_text(json.dumps(snapshot, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    if constraints_path is not None:
        constraints_path.write_text(constraints_text(installed), encoding="utf-8")
    return snapshot


def coverage_summary(snapshot: Mapping[str, Any], installed: Mapping[str, str]) -> str:
    """How completely the installed packages were audited, in one line (printed by ``check``)."""
    packages: Mapping[str, Any] = snapshot.get("packages", {})
    coverage = [str((packages.get(n) or {}).get("coverage")) for n in installed]
    exact = sum(c in EXACT_COVERAGE for c in coverage)
    partial = sorted(n for n in installed if str((packages.get(n) or {}).get("coverage")) == "partial")
    return (f"{len(installed)} packages: {exact} audited at their installed version, {len(partial)} only against "
            f"the advisories still open in their newest release ({', '.join(partial) or 'none'}; see "
            "accepted_partial in the snapshot)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=("check", "refresh"))
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    if args.command == "refresh":
        snapshot = refresh(args.snapshot)
        print(f"wrote {args.snapshot} ({len(snapshot['packages'])} packages)")
    problems = check(args.snapshot)
    for problem in problems:
        print(problem)
    installed = installed_closure(requirement_names(REQUIREMENT_FILES))
    print(f"dependency audit (snapshot {load_snapshot(args.snapshot).get('refreshed')}): "
          + coverage_summary(load_snapshot(args.snapshot), installed))
    if not problems:
        print("no known advisory affects the installed versions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
