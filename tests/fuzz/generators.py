"""Seeded generators shared by the fuzzers (hostile strings, links, argument lists, file mutations, events).

Every fuzzer draws its cases from :func:`rng` with a fixed seed, so a failure names a case that
can be replayed exactly (``FUZZ_SEED=<seed> python -m pytest tests/fuzz -k <name>``). The number
of cases is a base count per kind times :data:`SCALE`:

- the normal test run (CI) uses the base counts: a few hundred cases per kind, bounded;
- the long run for the benchmark multiplies them: ``python tests/fuzz --long`` (see
  ``tests/fuzz/__main__.py``), or set ``FUZZ_SCALE`` and ``FUZZ_SEED`` yourself.
"""

from __future__ import annotations

import os
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

SEED: int = int(os.environ.get("FUZZ_SEED", "20261206"))
SCALE: float = float(os.environ.get("FUZZ_SCALE", "1"))
# A case running longer than this is a hang (the YAML alias bomb ran for minutes): not a timing
# assertion, a bound that turns a hang into a failure naming the case.
HANG_S: int = int(os.environ.get("FUZZ_HANG_S", "30"))

HOST = "203.0.113.9"  # TEST-NET-3 (RFC 5737): never a real host; any request to it is a leak
MARKERS: tuple[str, ...] = (HOST, "evil.example")  # strings that must never become a src or href
SHOWN_LIMIT = 80  # a value quoted in a message: at most this many characters of it


def n_cases(base: int) -> int:
    """How many cases to run for a kind whose CI count is ``base``."""
    return max(1, round(base * SCALE))


def rng(kind: str, case: int = 0) -> random.Random:
    """The random source of one case: the same seed, kind and case give the same draws."""
    return random.Random(f"{SEED}:{kind}:{case}")


def case_ids(kind: str, base: int) -> list[int]:
    return list(range(n_cases(base)))


# --------------------------------------------------------------------------- hostile strings
PAYLOADS: tuple[str, ...] = (
    f"![x](http://{HOST}/p.png)",
    f"[click here](http://{HOST}/)",
    "[x](javascript:alert(1))",
    f"<img src=http://{HOST}/i.png onerror=alert(1)>",
    f"<a href='http://{HOST}/'>a</a>",
    "<script>alert(1)</script>",
    "<iframe src=//evil.example></iframe>",
    "<svg onload=alert(1)>",
    f"http://{HOST}/bare",
    "https://evil.example/x",
    "www.evil.example",
    "someone@evil.example",
    ":material/home:",
    ":bone:",
    ":red[red]",
    "$x^2$",
    "$$\\frac{1}{2}$$",
    "**b** _i_ `c` ~~s~~",
    "# Big\n- list\n> quote",
    "| a | b |\n|---|---|",
    "&#x1F9B4;&lt;&amp;",
    "\\[x\\](y)",
    "[x][1]\n\n[1]: http://evil.example/",
    "<http://evil.example/auto>",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "../../../../etc/passwd",
    "%00%0a%0d%25",
    "\u202eevil\u202c",  # right-to-left override
    "a\u200bb\u2060c\ufeff",  # zero-width characters
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "\U0001F9B4\U0001F480\u2603",
    "日本語のテキスト",
    "\x00\x01\x07\x1b[31m",
    "\r\n\t ",
    "   ",
    "",
    "nan", "inf", "-0", "1e309", "0x10", "1_0", "-1", "0.6000000000000001", "True", "None", "null",
)

UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x590, 0x6FF), (0x2000, 0x206F), (0x3040, 0x30FF),
    (0x4E00, 0x4E80), (0x1F300, 0x1F64F), (0xE000, 0xE0FF), (0x0, 0x1F),
)


def random_text(r: random.Random, max_len: int = 40) -> str:
    """Random characters from a mix of scripts, controls, symbols and emoji (no lone surrogates)."""
    n = r.randint(0, max_len)
    out = []
    for _ in range(n):
        lo, hi = r.choice(UNICODE_RANGES)
        out.append(chr(r.randint(lo, hi)))
    return "".join(out)


def mutate_text(r: random.Random, value: str) -> str:
    """A near miss of a valid value: case, padding, a character changed, doubled, cut or glued."""
    choice = r.randrange(9)
    if choice == 0:
        return value.upper()
    if choice == 1:
        return value + r.choice(["x", "-", "\u200b", "%", "/"])
    if choice == 2 and value:
        i = r.randrange(len(value))
        return value[:i] + r.choice(string.printable) + value[i + 1:]
    if choice == 3:
        return value * r.randint(2, 5)
    if choice == 4:
        return value[: r.randint(0, max(0, len(value) - 1))]
    if choice == 5:
        return f"{value},{value}"
    if choice == 6:
        return value.replace("-", "_")
    if choice == 7:
        return r.choice(PAYLOADS) + value
    return value + r.choice(PAYLOADS)


def long_text(r: random.Random) -> str:
    """A value longer than any message may quote: 81 characters up to 300,000 (rarely)."""
    size = r.choice([81, 82, 100, 200, 1000, 5000, 20_000] + ([300_000] if r.random() < 0.1 else []))
    unit = r.choice(["A", "[", "![x](", "<b>", "ab ", "\u00e9", "\U0001F9B4", r.choice(PAYLOADS) or "z"])
    return (unit * (size // max(1, len(unit)) + 1))[:size]


def hostile_text(r: random.Random, allow_long: bool = True) -> str:
    """One hostile value: a payload, random characters, a long value or a mixture."""
    roll = r.random()
    if roll < 0.35:
        return r.choice(PAYLOADS)
    if roll < 0.55:
        return random_text(r)
    if roll < 0.7 and allow_long:
        return long_text(r)
    if roll < 0.85:
        return r.choice(PAYLOADS) + random_text(r, 10) + r.choice(PAYLOADS)
    return "".join(r.choice(string.printable) for _ in range(r.randint(1, 30)))


def over_limit_parts(value: str) -> list[str]:
    """The pieces of ``value`` a message may quote (whole, or each comma-separated part), stripped,
    that are longer than :data:`SHOWN_LIMIT`."""
    parts = {value.strip(), *(p.strip() for p in value.split(","))}
    return [p for p in parts if len(p) > SHOWN_LIMIT]


def quotes_too_much(text: str, values: list[str]) -> str | None:
    """The first value of which ``text`` holds more than :data:`SHOWN_LIMIT` characters in a row, if any."""
    for value in values:
        for part in over_limit_parts(value):
            if part[: SHOWN_LIMIT + 1] in text:
                return part[:40]
    return None


# --------------------------------------------------------------------------- links (query strings)
@dataclass(frozen=True)
class LinkCase:
    """One generated link: its (key, value) pairs in order (keys may repeat)."""

    pairs: tuple[tuple[str, str], ...]

    def last(self) -> dict[str, str]:
        """The value each key has once the link is parsed (the last one wins)."""
        return dict(self.pairs)

    def query_lists(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k, v in self.pairs:
            out.setdefault(k, []).append(v)
        return out


def link_domains() -> dict[str, list[str]]:
    """Every link parameter the app knows, with its valid values (read from the app itself)."""
    from explorer import settings
    from explorer.anatomy.structures import STRUCTURES
    from explorer.conditions.registry import CONDITIONS
    from explorer.state import AUDIENCES, MODES, NO_CONDITION

    domains: dict[str, list[str]] = {
        "audience": list(AUDIENCES),
        "mode": list(MODES),
        "condition": [NO_CONDITION, *CONDITIONS],
        "view": list(settings.CAMERA_PRESETS),
        "layers": [",".join(settings.LAYERS), *settings.LAYERS, ""],
        "bone_opacity": [f"{v:g}" for v in settings.BONE_OPACITY_CHOICES],
        "dim": ["0", "1"],
        "labels": ["0", "1"],
        "selected": list(STRUCTURES)[:40],
        # Added by the sections work (CONTRACTS.md); until then they are unknown parameters.
        "section": ["off", "axial", "sagittal"],
        "cut": ["L4-L5", "L5-S1", "L3", "L4"],
        "posture": ["flexion", "neutral", "extension"],
    }
    for spec in CONDITIONS.values():
        for p in spec.params:
            domains.setdefault(p.name, [])
            domains[p.name] = list(dict.fromkeys([*domains[p.name], *p.values]))
    return domains


# Streamlit keeps these query parameters for itself (embedding options).
STREAMLIT_KEYS: frozenset[str] = frozenset({"embed", "embed_options"})


def link_case(r: random.Random, max_pairs: int = 12, allow_long: bool = True) -> LinkCase:
    """A random link: known parameters with valid or hostile values, unknown and hostile keys,
    repeated keys."""
    domains = link_domains()
    keys = list(domains)
    pairs: list[tuple[str, str]] = []
    if r.random() < 0.5:  # a real condition, so its parameters are validated too
        pairs.append(("condition", r.choice(domains["condition"][1:])))
    for _ in range(r.randint(1, max_pairs)):
        roll = r.random()
        if roll < 0.7:
            key = r.choice(keys)
        elif roll < 0.85:
            key = mutate_text(r, r.choice(keys))
        else:
            key = hostile_text(r, allow_long=allow_long and r.random() < 0.3)
        if key in STREAMLIT_KEYS:
            continue
        valid = domains.get(key)
        roll = r.random()
        if valid and roll < 0.4:
            value = r.choice(valid)
        elif valid and roll < 0.6:
            value = mutate_text(r, r.choice(valid))
        else:
            value = hostile_text(r, allow_long=allow_long)
        pairs.append((key, value))
        if r.random() < 0.1:  # the same key again
            pairs.append((key, hostile_text(r, allow_long=False) if r.random() < 0.5 else r.choice(valid or ["x"])))
    return LinkCase(tuple(pairs))


# --------------------------------------------------------------------------- command lines
NO_NUL = re.compile("\x00")


def cli_value(r: random.Random, valid: list[str] | None = None) -> str:
    """An argument value: valid, a near miss or hostile (never NUL: a real argv cannot hold one)."""
    roll = r.random()
    if valid and roll < 0.35:
        value = r.choice(valid)
    elif valid and roll < 0.55:
        value = mutate_text(r, r.choice(valid))
    elif roll < 0.6:
        value = "\udcff\udcfe"  # undecodable argv bytes arrive as surrogate escapes
    else:
        value = hostile_text(r)
    return NO_NUL.sub("", value)


# --------------------------------------------------------------------------- files
def flip_bytes(r: random.Random, data: bytes, count: int | None = None) -> bytes:
    buf = bytearray(data)
    for _ in range(count or r.randint(1, 20)):
        if not buf:
            break
        op = r.randrange(3)
        i = r.randrange(len(buf))
        if op == 0:
            buf[i] = r.randrange(256)
        elif op == 1:
            del buf[i: i + r.randint(1, 64)]
        else:
            buf[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 16)))
    return bytes(buf)


def deep_yaml(depth: int, flow: bool) -> str:
    """``depth`` nested lists: ``[[[...]]]``, or block style (``- `` indented one step more per level;
    its size grows with the square of the depth, so block style stops at 300 levels)."""
    if flow:
        return "[" * depth + "]" * depth
    return "".join(f"{'  ' * i}- \n" for i in range(min(depth, 300)))


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines)


YAML_WRONG_VALUES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: "[1, 2, [3, {a: b}]]",
    lambda r: "{1: x, 2: y}",
    lambda r: "{authors: {1: x}, title: [a], source: 3, year: {b: c}}",
    lambda r: "- {1: 2}\n  - x",
    lambda r: "123",
    lambda r: "12.5e400",
    lambda r: "true",
    lambda r: "null",
    lambda r: "~",
    lambda r: "2026-12-06",
    lambda r: "!!binary aGVsbG8=",
    lambda r: "!!set {a, b}",
    lambda r: "!!python/object/apply:os.system ['echo hi']",
    lambda r: "!!timestamp 2001-12-14t21:59:43.10-05:00",
    lambda r: "*undefined_alias",
    lambda r: "&anchor value",
    lambda r: deep_yaml(r.choice([25, 200, 5000]), flow=True),
    lambda r: "'" + long_text(r).replace("'", "''") + "'",
    lambda r: repr(hostile_text(r)),
    lambda r: "\"" + "\\x00\\uD800\\U0010FFFF" + "\"",
    lambda r: "|\n  " + "\n  ".join(hostile_text(r, allow_long=False) for _ in range(3)),
    lambda r: "{" + ", ".join(f"k{i}: v" for i in range(r.choice([10, 1000]))) + "}",
    lambda r: "[" + ", ".join(["x"] * r.choice([10, 10_000])) + "]",
)


def events_json(r: random.Random, depth: int = 0) -> object:
    """A random JSON value (what the browser can actually send), bounded in size."""
    roll = r.random()
    if depth > 4 or roll < 0.45:
        return r.choice([None, True, False, 0, -1, 2**63, 1.5, float("nan"), float("inf"), "",
                         hostile_text(r, allow_long=r.random() < 0.2), random_text(r, 10)])
    if roll < 0.75:
        return [events_json(r, depth + 1) for _ in range(r.randint(0, 4))]
    return {hostile_text(r, allow_long=False) if r.random() < 0.3 else r.choice(["id", "n", "hashes", "clicked"]):
            events_json(r, depth + 1) for _ in range(r.randint(0, 4))}


def chunks(seq: list, size: int) -> Iterator[list]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
