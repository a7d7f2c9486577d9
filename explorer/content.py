"""Load and validate the texts a person reads: ``content/**/*.md`` with YAML front matter.

The schema is described in ``content/README.md``. This module knows nothing of Streamlit: the UI
(``explorer/ui/reading.py``) and the tests call :func:`load_content`, which never raises for a bad
file. It returns the good texts and, for every bad one, a :class:`ContentProblem` naming the file,
what is wrong and what is allowed, so the app keeps working and the tests can say what to fix.

Two kinds of problem are told apart:

- A problem inside one file (bad YAML, a missing field, an unknown id, raw HTML, a missing
  section, a link that is not allowed) leaves that file out of the library.
- A broken reference to *another* text (a ``related`` id or a ``#id`` link to a topic that is
  missing or was left out) is reported, but the text is kept and the broken related topic is
  dropped: one bad topic should not hide every condition text that mentions it. A patient summary
  that is too long, too short or uses clinician detail is reported the same way (the text is kept).

What the page asks for: :meth:`ContentLibrary.condition_texts` (base text and extras),
:meth:`ContentLibrary.summary` / :attr:`Text.summary` (the calm "What this means for you" section
shown beside the 3D picture for patients) with :attr:`Text.body_after_summary` (the rest), and
:meth:`ContentLibrary.topic` / :meth:`ContentLibrary.related_topics` with an audience (a topic as
that audience reads it: a patient never gets the "For students" part).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs

import yaml

from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS
from explorer.safe_yaml import load_strict
from explorer.state import AUDIENCES, parse_query_params

CONTENT_DIR: Path = Path(__file__).resolve().parent.parent / "content"

KINDS: tuple[str, ...] = ("condition", "structure", "topic", "glossary", "notice")
STRUCTURE_KINDS: tuple[str, ...] = tuple(dict.fromkeys(s.kind for s in STRUCTURES.values()))
FIELDS: tuple[str, ...] = ("id", "kind", "title", "audience", "conditions", "structures", "params", "related",
                           "quiz", "references", "terms")
REQUIRED_FIELDS: tuple[str, ...] = ("id", "kind", "title", "audience", "references")
REFERENCE_FIELDS: tuple[str, ...] = ("authors", "title", "source", "year")

# Sections of a base condition text (one with no ``params`` filter), in this order, then the
# extra ones each audience adds (anywhere among them, except the patient summary, which opens the text).
CONDITION_SECTIONS: tuple[str, ...] = ("What it is", "What is squeezed", "Symptoms", "How it is diagnosed",
                                       "Treatment", "Outlook", "When to get urgent help")
# A patient base text opens with this section: a short, calm summary in plain words that the page
# shows beside the 3D picture, before anything else (issue 11), so it must come first.
SUMMARY_SECTION = "What this means for you"
SUMMARY_WORDS: tuple[int, int] = (60, 120)  # inclusive range of words in the summary
# Clinician detail that does not belong in the summary shown beside the picture: percentages,
# millimetres, grading systems and muscle names (issue 11). Matched case-insensitively on words.
SUMMARY_JARGON = re.compile(
    r"(?<!\d)\d++(?:[.,]\d++)?\s*+(?:%|mm\b)|"  # a number starts after a non-digit: linear in long digit runs
    r"\bper ?cent|\bpercent|millimet|\bgrade|\bgrading|\bmeyerding|\bschizas|\bpfirrmann|"
    r"\blee\b|\bfardon|\bdermatome|\bmyotome|\btibialis|\bhallucis|\bgastrocnemius|\bsoleus|"
    r"\bquadriceps|\bgluteus|\biliopsoas|\bfibularis|\bperoneus|\bdetrusor|\bsphincter|\bextensor|\bflexor",
    re.IGNORECASE)
AUDIENCE_SECTIONS: dict[str, tuple[str, ...]] = {
    "patient": (SUMMARY_SECTION, "What you can do", "Questions to ask your doctor"),
    "student": ("Exam pitfalls",),
    "educator": ("Teaching points", "Suggested order", "Discussion questions", "Misconceptions",
                 "Show it in the app"),
}

# Sections of a shared text (a topic written for several audiences) that only some audiences see:
# a patient asking for a topic gets it without the "For students" part. Keys are normalised headings.
AUDIENCE_ONLY_SECTIONS: dict[str, tuple[str, ...]] = {
    "for students": ("student", "educator"),
    "for clinicians": ("student", "educator"),
    "for educators": ("educator",),
    "for patients": ("patient",),
}

# Bounds that keep a hostile or broken file from stalling the loader (issue 14): every text is
# far below them (the longest is about 18 KB; front matter nests 3 levels deep).
MAX_FILE_BYTES: int = 256 * 1024
MAX_SHOWN_CHARS: int = 80  # a value from a file is quoted in a problem at most this long

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# An HTML tag or comment: "<" then a tag name and a space, ">" or "/" (or "</", "<!"). A "<" that
# is followed by a space or a digit ("< 5 mm", "<5%") is ordinary text and allowed.
HTML_PATTERN = re.compile(r"<\s*/\s*[A-Za-z]|<[A-Za-z][A-Za-z0-9-]*(?:\s|/?>)|<!|&[a-zA-Z]+;|&#\d+;")
# Link words and targets cannot hold "[" or "]", and every repeat is possessive ("*+"), so each
# character is scanned a bounded number of times: the old pattern was quadratic in "[" (40,000 of
# them took 33 s). A target holding "[" is not a valid URL anyway (RFC 3986 percent-encodes it).
LINK_PATTERN = re.compile(r"(!?)\[([^\[\]]*+)\]\(\s*+([^)\s\[\]]*+)(?:\s++\"[^\"]*+\")?\s*+\)")
# A "##" heading: the whole rest of the line is captured and the closing "#"s are stripped in
# Python (:func:`_heading`); the old lazy pattern with "\s*#*\s*$" was cubic in trailing spaces.
SECTION_PATTERN = re.compile(r"^##\s++([^\n]+)$", re.MULTILINE)
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Reference:
    """One cited source, shown as ``Authors. Title. Source; year.``"""

    authors: str
    title: str
    source: str
    year: str
    url: str | None = None

    def format(self) -> str:
        """The reference as one line of Markdown (the title is not re-punctuated if it ends in ``?``)."""
        title = self.title if self.title[-1:] in ".?!" else f"{self.title}."
        line = f"{self.authors.rstrip('.')}. {title} {self.source.rstrip('.')}; {self.year}."
        return f"{line} [Link]({self.url})" if self.url else line


@dataclass(frozen=True)
class QuizItem:
    """A self-test question (students) with its hidden answer."""

    q: str
    a: str


@dataclass(frozen=True)
class GlossaryTerm:
    """A technical term with a plain-language definition.

    ``aliases`` are other spellings that count as the term being used in a text (abbreviations,
    plurals); ``see_also`` names other glossary terms.
    """

    term: str
    definition: str
    see_also: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Text:
    """One validated Markdown text and its front matter.

    Attributes
    ----------
    id : str
        Unique id (``herniation-patient``); topics are linked as ``#<id>``.
    kind : str
        One of :data:`KINDS`.
    title : str
        Shown as the heading.
    audience : tuple of str
        Who it is written for (values of ``explorer.state.AUDIENCES``).
    conditions : tuple of str
        Condition ids it is about.
    structures : tuple of str
        Structure ids, or ``kind:<kind>`` for every structure of a kind.
    params : dict of str to tuple of str
        Filter: the text applies only when each named parameter has one of these values.
    related : tuple of str
        Ids of topic texts shown under this one.
    quiz : tuple of QuizItem
        Self-test questions (student texts).
    references : tuple of Reference
        Sources of the facts (at least one).
    body : str
        The Markdown after the front matter.
    path : Path
        The file it came from.
    """

    id: str
    kind: str
    title: str
    audience: tuple[str, ...]
    conditions: tuple[str, ...]
    structures: tuple[str, ...]
    params: dict[str, tuple[str, ...]] = field(hash=False)
    related: tuple[str, ...]
    quiz: tuple[QuizItem, ...]
    references: tuple[Reference, ...]
    body: str
    path: Path

    @property
    def sections(self) -> list[tuple[str, str]]:
        """The body split at its ``##`` headings (see :func:`split_sections`)."""
        return split_sections(self.body)

    @property
    def linked_ids(self) -> tuple[str, ...]:
        """Ids this text links to with ``[words](#id)``, in order of first use."""
        ids = [target[1:] for _, _, target in _links(self.body) if target.startswith("#")]
        return tuple(dict.fromkeys(ids))

    @property
    def summary(self) -> str | None:
        """The Markdown of the opening ``What this means for you`` section, or None if it has none.

        A patient condition text starts with it; the page shows it beside the 3D picture.
        """
        named = [(h, b) for h, b in self.sections if h]
        if named and _norm(named[0][0]) == _norm(SUMMARY_SECTION):
            return named[0][1]
        return None

    @property
    def body_after_summary(self) -> str:
        """The body without its opening summary section (all of it if there is none)."""
        matches = list(SECTION_PATTERN.finditer(self.body))
        if self.summary is None or not matches:
            return self.body
        rest = self.body[matches[1].start():] if len(matches) > 1 else ""
        return rest.strip() + "\n" if rest.strip() else ""

    def for_audience(self, audience: str) -> Text:
        """This text as ``audience`` reads it: sections meant only for other audiences are dropped.

        Sections headed ``For students``, ``For clinicians``, ``For educators`` or ``For patients``
        (see :data:`AUDIENCE_ONLY_SECTIONS`) are kept only for their audiences; everything else stays.
        """
        kept, dropped = [], False
        for heading, markdown in self.sections:
            allowed = AUDIENCE_ONLY_SECTIONS.get(_norm(heading)) if heading else None
            if allowed is not None and audience not in allowed:
                dropped = True
                continue
            kept.append(f"## {heading}\n\n{markdown}" if heading else markdown)
        return replace(self, body="\n\n".join(kept).strip() + "\n") if dropped else self

    def matches(self, params: Mapping[str, str]) -> bool:
        """True if every parameter in this text's filter has one of the listed values."""
        return all(params.get(name) in values for name, values in self.params.items())


@dataclass(frozen=True)
class ContentProblem:
    """Why one content file was left out or is incomplete."""

    path: Path
    message: str
    label: str = ""

    def __str__(self) -> str:
        return f"{self.label or self.path}: {self.message}"


@dataclass(frozen=True)
class ContentLibrary:
    """Every good text, keyed by id, and the problems found while loading."""

    root: Path
    by_id: dict[str, Text]
    glossary: tuple[GlossaryTerm, ...] = ()
    problems: tuple[ContentProblem, ...] = ()

    @property
    def texts(self) -> tuple[Text, ...]:
        return tuple(self.by_id.values())

    def condition_texts(self, condition: str, audience: str, params: Mapping[str, str]) -> list[Text]:
        """Texts about ``condition`` for ``audience``: the base text first, then matching extras.

        The base text is the condition text without a ``params`` filter; extras are condition texts
        whose filter matches ``params`` (the state's applicable parameters), in file order.
        """
        texts = [t for t in self.by_id.values()
                 if t.kind == "condition" and condition in t.conditions and audience in t.audience]
        base = [t for t in texts if not t.params]
        extras = [t for t in texts if t.params and t.matches(params)]
        return base[:1] + sorted(extras, key=lambda t: str(t.path))

    def structure_text(self, structure_id: str, audience: str) -> Text | None:
        """The text explaining a structure: one naming its exact id beats one naming its kind."""
        known = STRUCTURES.get(structure_id)
        if known is None:
            return None
        candidates = [t for t in self.by_id.values() if t.kind == "structure" and audience in t.audience]
        for wanted in (structure_id, f"kind:{known.kind}"):
            for text in candidates:
                if wanted in text.structures:
                    return text
        return None

    def topic(self, text_id: str, audience: str | None = None) -> Text | None:
        """The topic text with this id; with ``audience``, as that audience reads it.

        Given an audience, a topic not written for it gives None, and the sections meant only for
        other audiences (``For students`` for a patient) are left out (:meth:`Text.for_audience`).
        """
        text = self.by_id.get(text_id)
        if text is None or text.kind != "topic":
            return None
        if audience is None:
            return text
        return text.for_audience(audience) if audience in text.audience else None

    def related_topics(self, texts: Iterable[Text], audience: str) -> list[Text]:
        """Topics named in ``related`` or linked as ``#id`` by ``texts``, once each, in order, as
        ``audience`` reads them; topics not written for that audience are left out."""
        ids = dict.fromkeys(i for t in texts for i in (*t.related, *t.linked_ids))
        return [topic for i in ids if (topic := self.topic(i, audience)) is not None]

    def summary(self, condition: str, audience: str = "patient") -> str | None:
        """The opening ``What this means for you`` section of the base text for ``condition``.

        This is what the page shows beside the 3D picture for patients. None if there is no base
        text or it has no summary.
        """
        texts = self.condition_texts(condition, audience, {})
        return texts[0].summary if texts and not texts[0].params else None

    def notice(self, text_id: str) -> Text | None:
        text = self.by_id.get(text_id)
        return text if text is not None and text.kind == "notice" else None

    def problems_for(self, relative_path: str) -> tuple[ContentProblem, ...]:
        """Problems of one file, given relative to the content root (``conditions/stenosis/patient.md``)."""
        wanted = (self.root / relative_path).resolve()
        return tuple(p for p in self.problems if p.path.resolve() == wanted)


# --- parsing helpers -------------------------------------------------------------------------


def split_sections(body: str) -> list[tuple[str, str]]:
    """Split Markdown at its ``##`` headings.

    Returns
    -------
    list of (heading, markdown)
        The text before the first ``##`` heading (if any) comes first with heading ``""``.
    """
    parts: list[tuple[str, str]] = []
    matches = list(SECTION_PATTERN.finditer(body))
    intro = body[: matches[0].start()] if matches else body
    if intro.strip():
        parts.append(("", intro.strip()))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        parts.append((_heading(m.group(1)), body[m.end():end].strip()))
    return parts


def _heading(line: str) -> str:
    """A heading line without its closing ``#`` marks (``Symptoms ##`` -> ``Symptoms``)."""
    return line.rstrip().rstrip("#").rstrip() or line.strip()


def _short(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value from a file as text, cut to ``limit`` characters so a problem stays readable."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quoted(value: object) -> str:
    """``repr`` of a value from a file, cut like :func:`_short`."""
    return _short(repr(value))


def _links(body: str) -> list[tuple[str, str, str]]:
    """``(bang, words, target)`` of every Markdown link or image."""
    return [(m.group(1), m.group(2), m.group(3)) for m in LINK_PATTERN.finditer(body)]


def _strings(value: object) -> tuple[str, ...] | None:
    """A list of scalars (or one scalar) as strings; None if it is something else."""
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return tuple(str(v).strip() for v in value)
    return None


def _norm(heading: str) -> str:
    return re.sub(r"[\s:.?!]+$", "", heading).strip().casefold()


class _Invalid(Exception):
    """A problem that leaves the file out (internal: turned into a ContentProblem)."""


def _parse_front_matter(raw: str) -> tuple[dict, str]:
    m = FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if not m:
        raise _Invalid("no YAML front matter: the file must start with a line '---', the fields, and a line '---'")
    try:
        meta = load_strict(m.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 2}" if where is not None else ""
        raise _Invalid(f"the YAML front matter does not parse{at}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise _Invalid("the front matter must be a YAML mapping of fields (id: ..., kind: ...)")
    return meta, m.group(2)


def _references(value: object) -> tuple[Reference, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("references must be a non-empty list; each has authors, title, source, year (url optional)")
    refs = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise _Invalid(f"reference {i} must be a mapping with authors, title, source, year (url optional)")
        missing = [k for k in REFERENCE_FIELDS if not str(item.get(k) or "").strip()]
        if missing:
            raise _Invalid(f"reference {i} lacks {', '.join(missing)}; each reference needs "
                           f"{', '.join(REFERENCE_FIELDS)} (url optional)")
        unknown = sorted(str(k) for k in set(item) - {*REFERENCE_FIELDS, "url"})  # keys may be numbers
        if unknown:
            raise _Invalid(f"reference {i} has unknown field(s) {', '.join(unknown)}; allowed: "
                           f"{', '.join(REFERENCE_FIELDS)}, url")
        url = str(item["url"]).strip() if item.get("url") else None
        if url is not None and not url.startswith("https://"):
            raise _Invalid(f"reference {i} url {_quoted(url)} must start with https://")
        authors, title, source, year = (str(item[k]).strip() for k in REFERENCE_FIELDS)
        refs.append(Reference(authors, title, source, year, url=url))
    return tuple(refs)


def _quiz(value: object) -> tuple[QuizItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Invalid("quiz must be a list of {q: question, a: answer}")
    items = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not str(item.get("q") or "").strip() or not str(item.get("a") or "").strip():
            raise _Invalid(f"quiz item {i} must have a non-empty q (question) and a (answer)")
        items.append(QuizItem(str(item["q"]).strip(), str(item["a"]).strip()))
    return tuple(items)


def _terms(value: object) -> tuple[GlossaryTerm, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("a glossary needs terms: a non-empty list of {term, definition, see_also?, aliases?}")
    terms = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not str(item.get("term") or "").strip() \
                or not str(item.get("definition") or "").strip():
            raise _Invalid(f"glossary term {i} must have a non-empty term and definition")
        unknown = sorted(str(k) for k in set(item) - {"term", "definition", "see_also", "aliases"})
        if unknown:
            raise _Invalid(f"glossary term {_quoted(item['term'])} has unknown field(s) {', '.join(unknown)}; "
                           "allowed: term, definition, see_also, aliases")
        see_also, aliases = _strings(item.get("see_also")), _strings(item.get("aliases"))
        if see_also is None or aliases is None:
            raise _Invalid(f"glossary term {_quoted(item['term'])}: see_also and aliases must be lists of words")
        terms.append(GlossaryTerm(str(item["term"]).strip(), " ".join(str(item["definition"]).split()),
                                  see_also, aliases))
    names = [t.term.casefold() for t in terms]
    dupes = sorted({t for t in names if names.count(t) > 1})
    if dupes:
        raise _Invalid(f"glossary term(s) listed twice: {', '.join(dupes)}")
    for t in terms:
        bad = [s for s in t.see_also if s.casefold() not in names]
        if bad:
            raise _Invalid(f"glossary term {t.term!r}: see_also {', '.join(map(repr, bad))} is not a term in "
                           "this glossary")
    return tuple(sorted(terms, key=lambda t: t.term.casefold()))


def _params(value: object, conditions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise _Invalid("params must be a mapping of parameter name -> list of values, e.g. zone: [foraminal]")
    if not conditions:
        raise _Invalid("params filter needs conditions: the parameters belong to a condition")
    out: dict[str, tuple[str, ...]] = {}
    for name, raw in value.items():
        values = _strings(raw)
        if not values:
            raise _Invalid(f"params {_quoted(name)} must list one or more values")
        for cond in conditions:
            spec = CONDITIONS[cond]
            names = [p.name for p in spec.params]
            if name not in names:
                raise _Invalid(f"params {_quoted(name)} is not a parameter of {cond}; its parameters are "
                               f"{', '.join(names) or 'none'}")
            allowed = spec.param(name).values
            bad = [v for v in values if v not in allowed]
            if bad:
                raise _Invalid(f"params {_short(name)}: {_short(', '.join(map(repr, bad)))} is not allowed for "
                               f"{cond}; use one of {', '.join(allowed)}")
        out[str(name)] = values
    return out


def _check_body(body: str, audience: tuple[str, ...] = ()) -> None:
    html = HTML_PATTERN.search(body)
    if html:
        line = body[: html.start()].count("\n") + 1
        raise _Invalid(f"raw HTML {html.group(0).strip()!r} in the body (line {line}); use Markdown only "
                       "(a '<' followed by a space or a digit, as in '< 5 mm', is fine)")
    for bang, words, target in _links(body):
        if bang:
            raise _Invalid(f"image ![{_short(words)}]({_short(target)}) in the body; images are not allowed in texts")
        if target.startswith(("https://", "#")):
            continue  # #id targets are checked once every file is loaded
        if target.startswith("?"):
            query = parse_qs(target[1:], keep_blank_values=True)
            parsed = parse_query_params(query)
            if parsed.errors:
                raise _Invalid(f"app link [{_short(words)}]({_short(target)}) does not open cleanly: "
                               f"{_short(' '.join(parsed.errors), 300)}")
            if audience == ("educator",) and query.get("audience") != ["educator"]:
                # Without it the link would silently switch a lecturer to the student texts.
                raise _Invalid(f"app link [{_short(words)}]({_short(target)}) in an educator text must carry "
                               "audience=educator, "
                               "so the educator view stays open")
            continue
        raise _Invalid(f"link [{_short(words)}]({_short(target)}) is not allowed; use https://..., #<topic-id> or "
                       "?condition=...&level=... (an app state)")


def _check_sections(text: Text) -> None:
    """Base condition texts carry the required ``##`` sections for each of their audiences."""
    if text.kind != "condition" or text.params:
        return
    found = [_norm(h) for h, _ in text.sections if h]
    missing = [s for s in CONDITION_SECTIONS if _norm(s) not in found]
    for aud in text.audience:
        missing += [s for s in AUDIENCE_SECTIONS[aud] if _norm(s) not in found and s not in missing]
    if missing:
        raise _Invalid(f"missing section(s) {', '.join('## ' + s for s in missing)}; a {'/'.join(text.audience)} "
                       f"condition text has: {', '.join(CONDITION_SECTIONS)}, then "
                       + "; ".join(f"{a}: {', '.join(AUDIENCE_SECTIONS[a])}" for a in text.audience))
    order = [found.index(_norm(s)) for s in CONDITION_SECTIONS]
    if order != sorted(order):
        raise _Invalid(f"sections out of order; the common ones go: {', '.join(CONDITION_SECTIONS)}")
    if "patient" in text.audience and (text.sections[0][0] == "" or found[0] != _norm(SUMMARY_SECTION)):
        raise _Invalid(f"a patient condition text must open with '## {SUMMARY_SECTION}' (a short calm summary "
                       "shown beside the 3D picture), with nothing before it")
    if "student" in text.audience and not text.quiz:
        raise _Invalid("a student condition text needs a quiz: a list of {q, a} in the front matter")


def parse_text(path: Path, raw: str) -> tuple[Text, tuple[GlossaryTerm, ...]]:
    """Parse and check one file on its own (links to other texts are checked by :func:`load_content`).

    Raises
    ------
    ValueError
        With a message saying what is wrong and what is allowed.
    """
    try:
        return _parse_text(path, raw)
    except _Invalid as exc:
        raise ValueError(str(exc)) from None


def _parse_text(path: Path, raw: str) -> tuple[Text, tuple[GlossaryTerm, ...]]:
    meta, body = _parse_front_matter(raw)
    missing = [k for k in REQUIRED_FIELDS if meta.get(k) in (None, "", [])]
    if missing:
        raise _Invalid(f"missing required field(s) {', '.join(missing)}; every text needs "
                       f"{', '.join(REQUIRED_FIELDS)}")
    unknown = sorted(str(k) for k in set(meta) - set(FIELDS))
    if unknown:
        raise _Invalid(f"unknown field(s) {_short(', '.join(unknown))}; allowed: {', '.join(FIELDS)}")
    scalars = [k for k in ("id", "kind", "title") if not isinstance(meta[k], (str, int, float))]
    if scalars:
        raise _Invalid(f"{', '.join(scalars)} must be plain text, not a list or mapping")
    text_id, kind = str(meta["id"]).strip(), str(meta["kind"]).strip()
    if not ID_PATTERN.match(text_id):
        raise _Invalid(f"id {_quoted(text_id)} must be lowercase words joined by '-' (like herniation-patient)")
    if kind not in KINDS:
        raise _Invalid(f"kind {_quoted(kind)} is not allowed; use one of {', '.join(KINDS)}")
    audience = _strings(meta["audience"])
    bad = [a for a in audience or () if a not in AUDIENCES]
    if not audience or bad:
        raise _Invalid(f"audience {_quoted(meta['audience'])} is not allowed; list one or more of "
                       f"{', '.join(AUDIENCES)}")
    conditions = _strings(meta.get("conditions"))
    if conditions is None:
        raise _Invalid("conditions must be a list of condition ids")
    bad = [c for c in conditions if c not in CONDITIONS]
    if bad:
        raise _Invalid(f"unknown condition id(s) {_short(', '.join(map(repr, bad)))}; allowed: {', '.join(CONDITIONS)}")
    if kind == "condition" and not conditions:
        raise _Invalid(f"a condition text needs conditions: one or more of {', '.join(CONDITIONS)}")
    structures = _strings(meta.get("structures"))
    if structures is None:
        raise _Invalid("structures must be a list of structure ids or kind:<kind>")
    for s in structures:
        if s.startswith("kind:"):
            if s[5:] not in STRUCTURE_KINDS:
                raise _Invalid(f"unknown structure kind {_quoted(s)}; kinds: {', '.join(STRUCTURE_KINDS)}")
        elif s not in STRUCTURES:
            raise _Invalid(f"unknown structure id {_quoted(s)}; ids look like vertebra-L4, disc-L4-L5, root-L5-left, "
                           f"thecal-sac, or write kind:<kind> with a kind from {', '.join(STRUCTURE_KINDS)}")
    if kind == "structure" and not structures:
        raise _Invalid("a structure text needs structures: structure ids or kind:<kind>")
    related = _strings(meta.get("related"))
    if related is None:
        raise _Invalid("related must be a list of topic ids")
    quiz = _quiz(meta.get("quiz"))
    if quiz and "student" not in audience:
        raise _Invalid("quiz is for student texts only; add student to audience or remove the quiz")
    terms: tuple[GlossaryTerm, ...] = ()
    if kind == "glossary":
        terms = _terms(meta.get("terms"))
    elif "terms" in meta:
        raise _Invalid("terms is only for kind: glossary")
    params = _params(meta.get("params"), conditions)
    refs = _references(meta["references"])
    body = body.strip() + "\n"
    _check_body(body, audience)
    text = Text(id=text_id, kind=kind, title=str(meta["title"]).strip(), audience=audience, conditions=conditions,
                structures=structures, params=params, related=related, quiz=quiz, references=refs, body=body,
                path=path)
    _check_sections(text)
    return text, terms


def summary_problems(markdown_text: str) -> list[str]:
    """What is wrong with a patient summary section (empty if it is fine).

    The summary is shown beside the 3D picture before anything else, so it must be short
    (:data:`SUMMARY_WORDS`) and free of clinician detail (:data:`SUMMARY_JARGON`).
    """
    problems = []
    words = len(plain_text(markdown_text).split())
    low, high = SUMMARY_WORDS
    if not low <= words <= high:
        problems.append(f"the '{SUMMARY_SECTION}' section has {words} words; keep it to {low}-{high}")
    jargon = sorted({m.group(0).strip().lower() for m in SUMMARY_JARGON.finditer(plain_text(markdown_text))})
    if jargon:
        problems.append(f"the '{SUMMARY_SECTION}' section uses clinician detail ({', '.join(jargon)}); say it in "
                        "everyday words and leave numbers, grades and muscle names to later sections")
    return problems


# Folders under content/ that hold data, not texts (the clinical case set is YAML read by its own
# loader; its README describes it).
NOT_TEXT_DIRS: tuple[str, ...] = ("cases",)


def _content_files(root: Path) -> list[Path]:
    """Every text file: ``*.md`` except any ``README.md`` and the data folders in :data:`NOT_TEXT_DIRS`."""
    return sorted(p for p in root.rglob("*.md")
                  if p.name != "README.md" and p.is_file()
                  and not any(part in NOT_TEXT_DIRS for part in p.relative_to(root).parts[:-1]))


def _read_text_file(path: Path) -> str:
    """A text file's contents, read no further than :data:`MAX_FILE_BYTES` (+1 to tell it is over).

    Raises
    ------
    _Invalid
        If the file is larger than the limit.
    OSError, UnicodeDecodeError
        If it cannot be read as UTF-8.
    """
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Invalid(f"the file is over {MAX_FILE_BYTES // 1024} KB (texts are limited to "
                       f"{MAX_FILE_BYTES // 1024} KB); split it into several texts")
    return data.decode("utf-8")


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def load_content(root: Path = CONTENT_DIR) -> ContentLibrary:
    """Load every text under ``root``; never raises for a bad file.

    Parameters
    ----------
    root : Path
        The content folder (``content/``). ``root/README.md`` is the schema, not a text.

    Returns
    -------
    ContentLibrary
        The good texts, the glossary terms, and one :class:`ContentProblem` per problem found.
    """
    root = Path(root)
    problems: list[ContentProblem] = []

    def report(path: Path, message: str) -> None:
        problems.append(ContentProblem(path, message, _label(path, root)))

    if not root.is_dir():
        report(root, "the content folder does not exist")
        return ContentLibrary(root, {}, (), tuple(problems))
    texts: dict[str, Text] = {}
    glossary: list[GlossaryTerm] = []
    for path in _content_files(root):
        try:
            raw = _read_text_file(path)
            text, terms = _parse_text(path, raw)
        except (OSError, UnicodeDecodeError) as exc:
            report(path, f"cannot be read as UTF-8 text: {_short(exc, 200)}")
            continue
        except _Invalid as exc:
            report(path, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - the loader never raises: a checker bug must not take the app down
            report(path, f"could not be checked ({type(exc).__name__}: {_short(exc)}); please report this file")
            continue
        if text.id in texts:
            report(path, f"id {text.id!r} is already used by {_label(texts[text.id].path, root)}; ids must be unique")
            continue
        clash = [t for t in texts.values() if t.kind == "condition" == text.kind and not t.params and not text.params
                 and set(t.conditions) & set(text.conditions) and set(t.audience) & set(text.audience)]
        if clash:
            report(path, f"a base text for this condition and audience already exists ({_label(clash[0].path, root)});"
                         " add a params filter to make this an extra text, or merge the two")
            continue
        known = {g.term.casefold() for g in glossary}
        repeated = [t.term for t in terms if t.term.casefold() in known]
        if repeated:
            report(path, f"glossary term(s) {', '.join(repeated)} already defined in another glossary file")
            terms = tuple(t for t in terms if t.term.casefold() not in known)
        texts[text.id] = text
        glossary.extend(terms)
    # Cross-file checks: keep the text, drop what points nowhere, and say so.
    topics = {i for i, t in texts.items() if t.kind == "topic"}
    for text_id, text in list(texts.items()):
        bad_related = [r for r in text.related if r not in topics]
        if bad_related:
            report(text.path, f"related {', '.join(map(repr, bad_related))} is not a topic text; related lists ids "
                              f"of topics (content/topics/*.md): {', '.join(sorted(topics)) or 'none yet'}")
            texts[text_id] = replace(text, related=tuple(r for r in text.related if r in topics))
        if text.summary is not None and "patient" in text.audience:
            for message in summary_problems(text.summary):
                report(text.path, message)  # the text is kept: a long summary is better than none
        bad_links = [i for i in text.linked_ids if i not in topics]
        if bad_links:
            report(text.path, f"link(s) {', '.join('#' + i for i in bad_links)} point to no topic; #<id> links go to "
                              "topics (shown under the text); to open a condition use ?condition=<id>")
    return ContentLibrary(root, texts, tuple(sorted(glossary, key=lambda t: t.term.casefold())), tuple(problems))


# --- readability -------------------------------------------------------------------------------


def plain_text(markdown_text: str) -> str:
    """Markdown reduced to the words a person reads.

    Link text stays, targets go; heading marks, list bullets, emphasis and quote marks go. Each
    heading, list item and table row is ended with a full stop if it has none: a reader takes
    them as separate units, and without the stop the readability formula would glue them into
    one long sentence.
    """
    text = re.sub(r"```.*?```", " ", markdown_text, flags=re.DOTALL)
    text = LINK_PATTERN.sub(lambda m: m.group(2), text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r":[a-z]++\[([^\[\]]*+)\]", r"\1", text)  # Streamlit colour directives :red[...] (linear)
    lines = []
    for line in text.splitlines():
        unit = bool(re.match(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|\|)", line))
        line = re.sub(r"^\s*(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", "", line)
        line = re.sub(r"\|", " ", line)
        line = re.sub(r"(\*\*|__|\*|(?<!\w)_(?!\s)|(?<=\w)_(?!\w))", "", line).strip()
        if re.fullmatch(r"[-:\s]*", line):
            continue
        if unit and line[-1] not in ".?!:;":
            line += "."
        lines.append(line)
    return "\n".join(lines)


def reading_grade(markdown_text: str) -> float:
    """Flesch-Kincaid grade of a Markdown text, after stripping the Markdown syntax.

    ``textstat`` is a test/dev dependency (``requirements-dev.txt``), imported here so the app
    does not need it.
    """
    import textstat  # dev-only dependency: the app never measures

    return float(textstat.flesch_kincaid_grade(plain_text(markdown_text)))


def glossary_text(terms: Iterable[GlossaryTerm]) -> str:
    """The glossary definitions as sentences (what a patient reads in the glossary panel)."""
    return "\n".join(t.definition for t in terms)
