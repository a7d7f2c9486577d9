"""Checks shared by the fuzzers: is a piece of Markdown shown as plain text?

The app passes every message that quotes outside input to Streamlit as Markdown that must read as
plain text. :func:`interpreted` parses it with markdown-it (CommonMark, as Streamlit's
react-markdown does, plus tables and strikethrough) and lists what would be drawn as something
other than text; :func:`rewritten` finds the patterns Streamlit rewrites *after* parsing (bare
links, e-mail addresses, ``:icon:`` shortcodes), which a backslash does not stop.
"""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .generators import MARKERS

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
NOT_TEXT = ("link_open", "image", "html_inline", "html_block", "code_inline", "fence", "code_block", "em_open",
            "strong_open", "s_open", "heading_open", "table_open", "blockquote_open", "bullet_list_open",
            "ordered_list_open", "hr")
WORD_JOINER = "\u2060"


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for t in tokens:
        yield t
        if t.children:
            yield from _walk(t.children)


def interpreted(markdown_source: str) -> list[str]:
    """What markdown-it would draw from ``markdown_source`` other than plain text (token types)."""
    return [t.type for t in _walk(_MD.parse(markdown_source)) if t.type in NOT_TEXT]


def links_to_markers(markdown_source: str) -> list[str]:
    """Link or image targets in ``markdown_source`` that point at a fuzzer's host (a leak)."""
    out = []
    for t in _walk(_MD.parse(markdown_source)):
        target = str(t.attrs.get("href") or t.attrs.get("src") or "")
        if t.type in ("link_open", "image") and (any(m in target for m in MARKERS) or target.startswith(
                ("javascript:", "data:"))):
            out.append(target)
    return out


def rewritten(markdown_source: str) -> list[str]:
    """Patterns Streamlit turns into links or icons after parsing: ``://``, ``www.``, ``name@host``,
    ``:name`` shortcodes and unescaped ``$`` (maths)."""
    plain = markdown_source.replace("\\\\", "").replace("\\", "")
    found = [p for p in ("://", "www.") if p in plain.lower()]
    found += re.findall(r"@[A-Za-z0-9]", plain) + re.findall(r"(?<!\\):[A-Za-z]", markdown_source)
    found += re.findall(r"(?<!\\)(?:\\\\)*\$", markdown_source)
    return found


def reader_text(markdown_source: str) -> str:
    """What a reader sees of escaped Markdown: backslash escapes and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown_source, flags=re.DOTALL).replace(WORD_JOINER, "")


class Hang(Exception):
    """A fuzz case still running after its time (a hang is a finding, not a slow test)."""


@contextlib.contextmanager
def bounded(seconds: int, what: str = "") -> Iterator[None]:
    """Raise :class:`Hang` in this (main) thread if the block runs longer than ``seconds``."""
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"{what + ' ' if what else ''}still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
