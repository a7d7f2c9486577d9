"""Fuzzing the command line: random and hostile argument lists for every ``python -m explorer`` command.

``explorer.__main__.main(argv)`` runs in-process (a subprocess costs about a second of start-up),
with stdout and stderr encoded as a real process would (UTF-8; stdout strict, stderr with
backslash escapes), so a value that cannot be printed fails here as it would in a terminal. A few
argument lists also run as real subprocesses. Checks: no exception escapes (a traceback), exit
code 0 or 2, and on exit 2 the message on stderr names the bad value, shortened to at most 80
characters of it.

Commands that build meshes run against a temporary copy of the assets with a stub builder (a small
sphere) and a temporary cache: what is fuzzed is the argument handling, not the 30 s bake, and
nothing outside the temporary folder is written. ``validate`` always gets ``--case`` (the whole
case set takes about 17 s).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from .checks import bounded
from .generators import HANG_S, SHOWN_LIMIT, case_ids, cli_value, hostile_text, mutate_text, quotes_too_much, rng

ROOT = Path(__file__).resolve().parents[2]
CLI_CASES = 300
SUBPROCESS_CASES = 6


class _Recorder(argparse.ArgumentParser):
    """An ArgumentParser that remembers the options added to it (argparse has no public way to list
    them); sub-command parsers are made of the same class."""

    made: list[_Recorder] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options: list[argparse.Action] = []
        _Recorder.made.append(self)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.option_strings and action.dest != "help":
            self.options.append(action)
        return action


@functools.cache
def _commands() -> dict[str, list[argparse.Action]]:
    """Each sub-command with its options, read from the real parser, so options added later are fuzzed too."""
    from explorer import __main__ as cli

    _Recorder.made = []
    proxy = types.SimpleNamespace(**{**vars(argparse), "ArgumentParser": _Recorder})
    with mock.patch.object(cli, "argparse", proxy):
        top = cli.build_parser()
    return {p.prog.split()[-1]: p.options for p in _Recorder.made if p is not top}


def _valid_values(command: str, dest: str, tmp: Path) -> list[str]:
    from explorer.conditions.registry import CONDITIONS

    if dest == "condition":
        return list(CONDITIONS)
    if dest == "models_dir":
        return [str(tmp / "models"), "models", str(tmp / "fresh" / "deeper"), str(tmp / "a-file"), "/dev/null"]
    if dest == "case":
        return ["no-such-case"]
    if dest in ("area", "weak", "reflex", "normal"):
        from explorer.clinical.matching import allowed_names

        names = allowed_names()
        pool = {"area": names["areas"], "weak": names["movements"], "reflex": names["reflexes"],
                "normal": names["movements"] + names["reflexes"]}[dest]
        return [f"{side}:{name}" for side in names["sides"] for name in pool[:6]]
    values = [v for spec in CONDITIONS.values() for p in spec.params if p.name == dest for v in p.values]
    return list(dict.fromkeys(values))


def argv_case(case_no: int, tmp: Path) -> list[str]:
    r = rng("cli", case_no)
    commands = _commands()
    argv: list[str] = []
    roll = r.random()
    if roll < 0.85:
        command = r.choice(list(commands))
        argv.append(command)
    elif roll < 0.93:
        command = ""
        argv.append(mutate_text(r, r.choice(list(commands))))
    else:
        command = ""
        argv.append(cli_value(r))
    options = commands.get(command, [])
    for _ in range(r.randint(0, 6)):
        roll = r.random()
        if options and roll < 0.75:
            action = r.choice(options)
            flag = r.choice(action.option_strings)
            if action.nargs == 0:
                argv.append(flag)
            else:
                value = cli_value(r, _valid_values(command, action.dest, tmp))
                if r.random() < 0.15:
                    argv.append(f"{flag}={value}")
                else:
                    argv += [flag, value]
        elif roll < 0.85:
            argv.append("--" + re.sub(r"\s", "", hostile_text(r, allow_long=False))[:30])
        elif roll < 0.95:
            argv.append(cli_value(r))
        else:
            argv.append(r.choice(["--", "-", "-h", "--json", "--help"]))
    if command == "validate" and not any(a.startswith("--case") for a in argv):
        argv += ["--case", cli_value(r, ["no-such-case"])]
    return [a.replace("\x00", "") for a in argv]  # a real argv cannot hold NUL


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A temporary folder with a copy of the baked assets, and a file where a folder might be named."""
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copytree(ROOT / "assets" / "models", tmp / "models")
    (tmp / "a-file").write_text("not a folder")
    return tmp


@pytest.fixture()
def contained(sandbox, monkeypatch):
    """Mesh commands write only inside the sandbox, with a fast stub builder."""
    import pyvista as pv

    from explorer import settings
    from explorer.anatomy import model

    monkeypatch.chdir(sandbox)
    monkeypatch.setattr(settings, "MODELS_DIR", sandbox / "models")
    monkeypatch.setattr(model, "build_structure", lambda sid: pv.Sphere(theta_resolution=6, phi_resolution=6))
    monkeypatch.setattr(model, "default_cache_dir", lambda fingerprint: sandbox / "cache" / fingerprint)
    monkeypatch.setattr(model, "LOCK_WAIT_S", 5.0)
    return sandbox


def run_in_process(argv: list[str]) -> tuple[int, str, str, BaseException | None]:
    """``main(argv)`` with a real process's stream encodings: (exit code, stdout, stderr, exception)."""
    from explorer.__main__ import main

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    raised: BaseException | None = None
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with bounded(HANG_S):
                code = int(main(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # noqa: BLE001 - this is what the fuzzer is looking for
            raised = exc
    return code, out_bytes.getvalue().decode("utf-8", "replace"), err_bytes.getvalue().decode("utf-8", "replace"), \
        raised


def names_bad_value(stderr: str, argv: list[str]) -> bool:
    """True if stderr quotes one of the arguments (or says which required one is missing)."""
    if re.search(r"required|expected one argument|at least one|give at least|COMMAND", stderr):
        return True
    for token in argv:
        for piece in (token, token.split("=", 1)[-1], token.split(":", 1)[-1]):
            head = piece.strip()[: SHOWN_LIMIT // 2]
            if head and (head in stderr or repr(head)[1:-1] in stderr or
                         head.encode("utf-8", "backslashreplace").decode("ascii", "replace") in stderr):
                return True
    return False


# argparse itself quotes unrecognized arguments and an invalid command in full (a pasted value can
# be megabytes). Until explorer/__main__.py shortens them (test_argparse_messages_are_shortened,
# strict xfail, found by this fuzzer), those two messages are exempt from the length check below;
# the exemption ends by itself once the probe sees them shortened.
ARGPARSE_QUOTES = re.compile(r"error: (unrecognized arguments|argument COMMAND: invalid choice)")


def _argparse_shortens() -> bool:
    _code, _out, err, _raised = run_in_process(["conditions", "A" * 300])
    return "A" * (SHOWN_LIMIT + 1) not in err


@pytest.fixture(scope="module")
def argparse_shortens() -> bool:
    return _argparse_shortens()


@pytest.mark.parametrize("case_no", case_ids("cli", CLI_CASES))
def test_fuzz_cli(contained, argparse_shortens, case_no):
    argv = argv_case(case_no, contained)
    code, _out, err, raised = run_in_process(argv)
    assert raised is None, (argv, f"{type(raised).__name__}: {str(raised)[:300]}")
    # 1 only for an operating-system failure the CLI reports in one line (a folder that cannot be
    # written), never with a traceback.
    assert code in (0, 2) or (code == 1 and err.startswith("error: ") and err.count("\n") == 1), (argv, code, err)
    if code:
        assert err.strip(), argv
        assert names_bad_value(err, argv), (argv, err[-500:])
        if argparse_shortens or not ARGPARSE_QUOTES.search(err):
            assert quotes_too_much(err, argv) is None, (argv[:3], err[:300])


@pytest.mark.parametrize("argv", [["structures", "[" * 300], ["A" * 5000], ["match", "--json", "<b>" * 100]],
                         ids=["unrecognized", "invalid-command", "unrecognized-html"])
def test_argparse_messages_are_shortened(argv):
    """Found by test_fuzz_cli (cases 68, 76, 104 of seed 20261206): the whole value on stderr."""
    code, _out, err, raised = run_in_process(argv)
    assert raised is None and code == 2
    assert quotes_too_much(err, argv) is None, err[:200]


@pytest.mark.parametrize("case_no", case_ids("cli-subprocess", SUBPROCESS_CASES))
def test_fuzz_cli_as_a_real_process(sandbox, case_no):
    """A real process: the exit code, and no traceback on stderr (argv as bytes, like a shell's)."""
    argv = [a for a in argv_case(1000 + case_no, sandbox) if not a.startswith("--models-dir")]
    if argv and argv[0] in ("build-models", "check-models"):
        argv[0] = "conditions"
    raw = [a.encode("utf-8", "surrogateescape") for a in argv]
    proc = subprocess.run([sys.executable.encode(), b"-m", b"explorer", *raw], cwd=ROOT, capture_output=True,
                          timeout=120, check=False)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 2) and "Traceback" not in err, (argv, proc.returncode, err[-800:])
