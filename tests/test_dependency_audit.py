"""The offline dependency audit (issue 14): the installed versions against deploy/advisories.json.

The audit itself runs here, without network (sockets are blocked while it runs). The other tests
show it can fail: fabricated advisories, a package left out of the snapshot, a version the snapshot
did not audit, a partial audit nobody accepted, each in a temporary copy of the snapshot.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "dependency_audit.py"
_spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
assert _spec is not None and _spec.loader is not None
da = importlib.util.module_from_spec(_spec)
sys.modules["dependency_audit"] = da  # dataclasses look their module up by name
_spec.loader.exec_module(da)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (the audit must run offline)."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"the offline audit tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def installed() -> dict[str, str]:
    return da.installed_closure(da.requirement_names(da.REQUIREMENT_FILES))


def _snapshot() -> dict[str, Any]:
    return copy.deepcopy(da.load_snapshot())


def _write(tmp_path: Path, snapshot: dict[str, Any]) -> Path:
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(snapshot))
    return path


def test_the_installed_environment_passes_the_audit_offline(no_network, installed):
    problems = da.check()
    assert problems == [], "\n".join(map(str, problems))
    # It audited something real: every pinned package and what they pull in.
    pinned = set(da.requirement_names(da.REQUIREMENT_FILES)) - da.OWN_DISTRIBUTIONS
    assert pinned <= set(installed), pinned - set(installed)
    assert {"streamlit", "numpy", "pytest", "starlette", "urllib3"} <= set(installed)
    assert len(installed) > len(pinned)  # transitive dependencies too


def test_every_installed_package_is_in_the_snapshot_at_its_version_and_locked(installed):
    snapshot = da.load_snapshot()
    assert {n: e["version"] for n, e in snapshot["packages"].items() if n in installed} == installed
    assert da.read_constraints() == installed, "deploy/constraints.txt differs from what is installed"
    assert "-c deploy/constraints.txt" in (ROOT / "requirements-dev.txt").read_text()
    # Partial audits are the exception, each with a reason for exactly its installed version.
    for name, entry in snapshot["packages"].items():
        if entry["coverage"] == "partial":
            accepted = snapshot["accepted_partial"][name]
            assert accepted["version"] == entry["version"] and len(accepted["reason"]) > 40


def test_a_fabricated_advisory_fails_the_audit(tmp_path, no_network, installed):
    snapshot = _snapshot()
    version = installed["streamlit"]
    snapshot["packages"]["streamlit"]["advisories"].append({
        "id": "PYSEC-0000-TEST", "aliases": ["CVE-0000-0001"], "fixed_in": ["999.0"], "summary": "fabricated",
        "link": None, "withdrawn": None})
    # One without any fixed release, on a transitive dependency.
    snapshot["packages"]["urllib3"]["advisories"].append({"id": "GHSA-test-test-test", "fixed_in": []})
    problems = da.check(_write(tmp_path, snapshot))
    found = {(p.package, p.kind) for p in problems}
    assert found == {("streamlit", "vulnerable"), ("urllib3", "vulnerable")}, problems
    text = "\n".join(map(str, problems))
    assert f"streamlit: {version} is affected by PYSEC-0000-TEST, CVE-0000-0001 (fixed in: 999.0)" in text
    assert "GHSA-test-test-test (fixed in: no fixed release)" in text


def test_the_command_line_exits_1_on_a_fabricated_advisory(tmp_path):
    snapshot = _snapshot()
    snapshot["packages"]["numpy"]["advisories"].append({"id": "PYSEC-0000-NUMPY", "fixed_in": []})
    bad = _write(tmp_path, snapshot)
    run = subprocess.run([sys.executable, str(SCRIPT), "check", "--snapshot", str(bad)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 1 and "numpy:" in run.stdout and "PYSEC-0000-NUMPY" in run.stdout, run.stdout
    good = subprocess.run([sys.executable, str(SCRIPT), "check"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "no known advisory affects the installed versions" in good.stdout


def test_an_advisory_fixed_at_or_before_the_installed_version_passes(tmp_path, installed):
    snapshot = _snapshot()
    version = installed["streamlit"]
    snapshot["packages"]["streamlit"]["advisories"] += [
        {"id": "FIXED-HERE", "fixed_in": [version]},
        {"id": "FIXED-LONG-AGO", "fixed_in": ["0.1"]},
        {"id": "WITHDRAWN", "fixed_in": [], "withdrawn": "2026-01-01T00:00:00"},
    ]
    assert da.check(_write(tmp_path, snapshot)) == []


def test_a_package_missing_from_the_snapshot_or_at_another_version_fails(tmp_path):
    snapshot = _snapshot()
    del snapshot["packages"]["pyyaml"]
    snapshot["packages"]["plotly"]["version"] = "0.0.1"
    problems = da.check(_write(tmp_path, snapshot))
    assert {(p.package, p.kind) for p in problems} == {("pyyaml", "missing"), ("plotly", "version")}, problems
    assert all("dependency_audit.py refresh" in str(p) for p in problems)


def test_a_partial_audit_nobody_accepted_fails(tmp_path):
    snapshot = _snapshot()
    snapshot["packages"]["streamlit"]["coverage"] = "partial"
    snapshot["packages"]["streamlit"]["newest"] = "99.0"
    partial = [n for n, e in snapshot["packages"].items() if e["coverage"] == "partial" and n != "streamlit"]
    if partial:  # an acceptance for another version does not count
        snapshot["accepted_partial"][partial[0]]["version"] = "0.0.0"
    problems = da.check(_write(tmp_path, snapshot))
    assert {p.package for p in problems if p.kind == "partial"} == {"streamlit", *partial[:1]}, problems


def test_a_pinned_package_that_is_not_installed_fails():
    problems = da.audit({"packages": {}}, {}, roots=["streamlit"])
    assert [(p.package, p.kind) for p in problems] == [("streamlit", "not installed")]


@pytest.mark.parametrize("installed_version,fixed_in,affected", [
    ("1.0", [], True),
    ("1.0", ["1.1"], True),
    ("1.1", ["1.1"], False),
    ("2.0", ["1.1"], False),
    ("1.2.6", ["1.2.5", "2.0.1"], False),  # fixed in its own series
    ("2.0.0", ["1.2.5", "2.0.1"], True),
    ("1.2.4", ["1.2.5", "2.0.1"], True),
    ("not a version", ["1.0"], True),
])
def test_which_versions_an_advisory_affects(installed_version, fixed_in, affected):
    assert da.affects(installed_version, {"id": "X", "fixed_in": fixed_in}) is affected


def test_refresh_reads_the_release_or_else_the_newest_and_says_which(monkeypatch, tmp_path):
    """The refresh with a fake PyPI: per-release data when served, else the newest release's
    (``partial`` when the installed version is older), and a failed lookup stops it."""
    vuln = {"id": "PYSEC-1", "aliases": ["CVE-1"], "fixed_in": ["2.0"], "details": "long\n text", "link": "x",
            "summary": None, "withdrawn": None}
    pages = {
        "https://pypi.org/pypi/aaa/1.0/json": {"vulnerabilities": [vuln]},
        "https://pypi.org/pypi/aaa/json": {"info": {"version": "2.0"}, "releases": {"1.0": [], "2.0": []},
                                           "vulnerabilities": []},
        "https://pypi.org/pypi/bbb/json": {"info": {"version": "3.0"}, "releases": {"1.0": [], "3.0": []},
                                           "vulnerabilities": [vuln]},
        "https://pypi.org/pypi/ccc/json": {"info": {"version": "1.0"}, "releases": {"1.0": []},
                                           "vulnerabilities": []},
    }
    monkeypatch.setattr(da, "_get_json", lambda url, timeout: pages.get(url))
    aaa = da.fetch_entry("aaa", "1.0")
    assert aaa["coverage"] == "release" and [a["id"] for a in aaa["advisories"]] == ["PYSEC-1"]
    assert aaa["advisories"][0]["summary"] == "long text"
    assert da.fetch_entry("bbb", "1.0")["coverage"] == "partial"
    assert da.fetch_entry("ccc", "1.0")["coverage"] == "newest"
    with pytest.raises(LookupError):
        da.fetch_entry("ddd", "1.0")
    with pytest.raises(LookupError):
        da.fetch_entry("ccc", "0.5")  # PyPI lists no such release

    monkeypatch.setattr(da, "installed_closure", lambda roots: {"aaa": "1.0", "bbb": "1.0"})
    old = {"schema": 1, "packages": {}, "accepted_partial": {"bbb": {"version": "1.0", "reason": "r"},
                                                             "gone": {"version": "1", "reason": "r"}}}
    path = _write(tmp_path, old)
    written = da.refresh(path, requirement_files=[ROOT / "requirements.txt"], constraints_path=tmp_path / "c.txt")
    assert set(written["packages"]) == {"aaa", "bbb"} and set(written["accepted_partial"]) == {"bbb"}
    assert da.read_constraints(tmp_path / "c.txt") == {"aaa": "1.0", "bbb": "1.0"}
    assert da.audit(da.load_snapshot(path), {"aaa": "1.0", "bbb": "1.0"})[0].kind == "vulnerable"
