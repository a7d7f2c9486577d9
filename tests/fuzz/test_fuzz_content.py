"""Fuzzing the content files: mutated copies of ``content/**/*.md`` through ``load_content``.

Each case copies one real text into an empty temporary content folder, breaks it (random bytes,
wrong types in the front matter, integer keys, anchors and alias bombs, deep nesting, huge or
bracket-heavy bodies, bad encodings, hostile links and HTML, odd file types) and loads the folder.
The loader must not raise or hang, and must either keep the text or report a problem that names
the file; no problem quotes more than 80 characters of what was injected.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from explorer.content import CONTENT_DIR, MAX_FILE_BYTES, NOT_TEXT_DIRS, load_content

from .checks import bounded
from .generators import (
    HANG_S,
    PAYLOADS,
    YAML_WRONG_VALUES,
    alias_bomb,
    case_ids,
    deep_yaml,
    flip_bytes,
    hostile_text,
    long_text,
    quotes_too_much,
    rng,
)

CONTENT_CASES = 300
FRONT = re.compile(r"\A(---\r?\n)(.*?)(\r?\n---\r?\n)(.*)\Z", re.DOTALL)


def sources() -> list[Path]:
    return sorted(p for p in CONTENT_DIR.rglob("*.md") if p.name != "README.md"
                  and not any(part in NOT_TEXT_DIRS for part in p.relative_to(CONTENT_DIR).parts[:-1]))


def _split(text: str) -> tuple[list[str], str]:
    m = FRONT.match(text)
    if not m:
        return [], text
    return m.group(2).splitlines(), m.group(4)


def _join(lines: list[str], body: str) -> str:
    return "---\n" + "\n".join(lines) + "\n---\n" + body


# Each mutation: (random, original text) -> (file bytes, injected strings that must not be quoted at length)
Mutation = Callable[[random.Random, str], tuple[bytes, list[str]]]


def m_bytes(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    return flip_bytes(r, text.encode()), []


def m_field(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    """A top-level field's value replaced with the wrong type or a hostile scalar."""
    lines, body = _split(text)
    tops = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+:", line)] or [0]
    i = r.choice(tops)
    key = lines[i].split(":", 1)[0] if lines else "id"
    value = r.choice(YAML_WRONG_VALUES)(r)
    rest = [line for line in lines[i + 1:] if not line.startswith((" ", "-"))] if lines else []
    new = [*lines[:i], f"{key}: {value}" if "\n" not in value else f"{key}:\n  " + value.replace("\n", "\n  "),
           *rest]
    return _join(new, body).encode("utf-8", "surrogatepass"), [value]


def m_nested(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    """Wrong shapes inside references, quiz, terms or params: integer keys, lists, mappings."""
    lines, body = _split(text)
    key = r.choice(["references", "quiz", "terms", "params", "related", "structures", "conditions", "audience"])
    item = r.choice([
        "  - {1: x, 2: y}", "  - 3", "  - [a, [b]]", "  - authors: {1: a}\n    title: 2\n    source: [x]\n    year: 2020",
        "  - term: {1: x}\n    definition: d\n    see_also: {a: b}", "  - q: {1: 2}\n    a: [x]",
        "  1: x", "  herniation: {zone: [1, 2]}", "  - " + hostile_text(r, allow_long=False).replace("\n", " "),
        "  - " + deep_yaml(r.choice([19, 21, 100]), flow=True),
    ])
    lines = [line for line in lines if not line.startswith(f"{key}:")] + [f"{key}:", item]
    return _join(lines, body).encode("utf-8", "surrogatepass"), [item]


def m_alias(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    lines, body = _split(text)
    bomb = alias_bomb(r.choice([3, 9, 12]))
    where = r.choice(["title", "extra"])
    if where == "title":
        lines = [line for line in lines if not line.startswith("title:")] + ["title: &t [x, y]", "quizz: *t"]
    return _join([*bomb.splitlines(), *lines], body).encode(), []


def m_deep(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    lines, body = _split(text)
    depth = r.choice([21, 100, 1000, 50_000])
    lines = [line for line in lines if not line.startswith("related:")] + [
        "related: " + deep_yaml(depth, flow=r.random() < 0.7).replace("\n", "\n  ")]
    return _join(lines, body).encode(), []


def m_huge(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    lines, body = _split(text)
    size = r.choice([MAX_FILE_BYTES - len(text.encode()) - 100, MAX_FILE_BYTES + 1, 3 * MAX_FILE_BYTES])
    unit = r.choice(["[", "](", "![", "a", "## x   #", "<", "&", " ", "\n", "0.5 mm "])
    filler = (unit * (max(0, size) // len(unit) + 1))[: max(0, size)]
    return _join(lines, body + filler).encode(), [filler[:1000]]


def m_encoding(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    choice = r.randrange(6)
    if choice == 0:
        return text.encode("utf-16"), []
    if choice == 1:
        return (text + " café").encode("latin-1", "replace"), []
    if choice == 2:
        return b"\xef\xbb\xbf" + text.encode(), []
    if choice == 3:
        data = text.encode()
        i = r.randrange(len(data))
        return data[:i] + b"\xed\xa0\x80\xff\xfe" + data[i:], []
    if choice == 4:
        return text.replace("\n", "\r\n").encode(), []
    return text.replace("\n", "\r").encode(), []


def m_body(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    """Hostile Markdown in the body: links, images, HTML, headings, long lines."""
    lines, body = _split(text)
    out = body.splitlines()
    injected = []
    for _ in range(r.randint(1, 5)):
        long_value = long_text(r)
        piece = r.choice([*PAYLOADS, hostile_text(r), f"[{long_value}](?condition={long_value})",
                          f"[a](?{hostile_text(r, allow_long=False)})", f"![{long_value}](x)",
                          f"[x]({long_value})", "## " + long_value + " " * 5000 + "#"])
        out.insert(r.randint(0, len(out)), piece)
        injected.append(long_value if long_value in piece else piece)
    return _join(lines, "\n".join(out)).encode("utf-8", "surrogatepass"), injected


def m_frame(r: random.Random, text: str) -> tuple[bytes, list[str]]:
    """The front matter's frame broken: no closing line, only dashes, empty, tabs, duplicate keys."""
    lines, body = _split(text)
    choice = r.randrange(6)
    if choice == 0:
        return ("---\n" + "\n".join(lines) + "\n" + body).encode(), []
    if choice == 1:
        return b"---\n---\n", []
    if choice == 2:
        return b"", []
    if choice == 3:
        return _join(["\t" + line for line in lines], body).encode(), []
    if choice == 4:
        return _join(lines + lines[:2], body).encode(), []
    return _join(["- " + line for line in lines], body).encode(), []


MUTATIONS: tuple[Mutation, ...] = (m_bytes, m_field, m_field, m_nested, m_nested, m_alias, m_deep, m_huge,
                                   m_encoding, m_body, m_body, m_frame)


@pytest.mark.parametrize("case_no", case_ids("content", CONTENT_CASES))
def test_fuzz_content_file(tmp_path, case_no):
    r = rng("content", case_no)
    source = r.choice(sources())
    mutation = r.choice(MUTATIONS)
    data, injected = mutation(r, source.read_text(encoding="utf-8"))
    root = tmp_path / "content"
    target = root / source.relative_to(CONTENT_DIR)
    target.parent.mkdir(parents=True)
    target.write_bytes(data)

    with bounded(HANG_S, "load_content"):
        library = load_content(root)
    mine = [p for p in library.problems if p.path == target]
    kept = any(t.path == target for t in library.texts)
    assert kept or mine, (mutation.__name__, [str(p)[:200] for p in library.problems])
    for problem in library.problems:
        message = str(problem)
        assert str(target.relative_to(root.parent)) in message or problem.path != target, message[:200]
        assert quotes_too_much(message, injected) is None, (mutation.__name__, message[:400])
        assert len(message) < 4000, (mutation.__name__, len(message), message[:400])


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink-to-device", "symlink-loop", "unreadable"])
def test_odd_content_files_are_skipped_or_reported(tmp_path, kind):
    """Paths named like texts that are not readable text files."""
    root = tmp_path / "content"
    (root / "topics").mkdir(parents=True)
    path = root / "topics" / "odd.md"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-to-device":
        path.symlink_to("/dev/zero")
    elif kind == "symlink-loop":
        path.symlink_to(path)
    else:
        path.write_text("---\nid: x\n---\n")
        path.chmod(0)
    with bounded(HANG_S, "load_content"):
        library = load_content(root)
    assert library.texts == ()
    for problem in library.problems:
        assert "odd.md" in str(problem)
