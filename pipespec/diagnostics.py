"""Diagnostics: what every stage reports, and the three ways to print them.

A diagnostic has a stable code (one of ``CODES``, checked when the diagnostic is made; a
test keeps docs/diagnostics.md in step with them), a severity, a message, the span of the
YAML node at fault and, where a fix is known, a hint. Stages collect diagnostics instead
of raising, so one run reports every problem it can find.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Span:
    """A place in a source file; line and col are 1-based, col counts characters."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def shifted(self, columns: int, width: int | None = None) -> Span:
        """The span ``columns`` characters to the right on the same line."""
        col = self.col + columns
        end_col = col + width if width is not None else None
        return Span(self.file, self.line, col, self.line if width is not None else None, end_col)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR
    related: tuple[tuple[Span, str], ...] = ()

    def __post_init__(self) -> None:
        # Checked where a diagnostic is made, so no stage can emit a code users cannot
        # look up in docs/diagnostics.md (a test keeps CODES and the document equal).
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code}")

    def sort_key(self) -> tuple[str, int, int, str, str]:
        if self.span is None:
            return ("", 0, 0, self.code, self.message)
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.span is not None:
            out["file"] = self.span.file
            out["line"] = self.span.line
            out["col"] = self.span.col
        if self.hint is not None:
            out["hint"] = self.hint
        if self.related:
            out["related"] = [
                {"file": s.file, "line": s.line, "col": s.col, "message": m}
                for s, m in self.related
            ]
        return out


# The stable codes. Never renumber one; retire a code by leaving it documented as unused.
CODES: dict[str, str] = {
    # PS1xx: reading the file
    "PS100": "the spec file cannot be read",
    "PS101": "the file is not valid UTF-8",
    "PS102": "the file is empty",
    "PS103": "the file is larger than the size limit",
    "PS104": "YAML syntax error",
    "PS105": "duplicate key in a mapping",
    "PS106": "alias expansion exceeds the budget",
    "PS107": "nesting deeper than the limit",
    "PS108": "unsupported YAML version directive",
    "PS109": "tag not allowed",
    "PS110": "the top level is not a mapping",
    "PS111": "more than one YAML document",
    "PS112": "merge keys (<<) are not supported",
    "PS113": "mapping key is not a string",
    "PS114": "alias expansion makes the text larger than the budget",
    # PS2xx: the spec's shape
    "PS200": "unknown key",
    "PS201": "missing required key",
    "PS202": "wrong type",
    "PS203": "invalid value",
    "PS204": "invalid duration",
    "PS205": "invalid quantity",
    "PS206": "unknown step kind",
    "PS207": "unsupported spec format version",
    "PS208": "invalid name or identifier",
    "PS209": "param default does not match the param's type",
    "PS210": "invalid schedule",
    "PS211": "unknown secret",
    "PS212": "script not found or unreadable",
    "PS213": "number out of range",
    "PS214": "NUL character in a string",
    "PS216": "declared columns are invalid",
    "PS220": "param enum or pattern is invalid, or the default breaks it",
    "PS240": "a tune step without a search space",
    "PS241": "a tune step running its own trials without `objective` or `max_trials`",
    "PS242": "a tune step running its own trials never writes its metrics output",
    "PS243": "a search dimension that never reaches a tune step's command",
    "PS244": "best_hyperparameters read from a tune step that runs no trials",
    "PS245": "a resource limit is below its request",
    "PS246": "invalid toleration",
    "PS247": "a SageMaker spot setting on a step that cannot use it",
    "PS248": "SageMaker max_wait below the step's timeout",
    "PS256": "a variable set both by `tracking` and by `env` or `secrets`",
    "PS230": "`else_of` names a step without a `when:` condition",
    "PS231": "a step with `else_of` has its own `when:`",
    "PS232": "a fail step runs nothing",
    # PS3xx: conditions, references and placeholders
    "PS300": "condition syntax error",
    "PS301": "condition compares values of incompatible types",
    "PS302": "invalid reference syntax",
    "PS310": "unknown placeholder",
    "PS311": "${item} used outside a foreach step",
    "PS312": "a text param is spliced into a script a shell or interpreter runs",
    # PS4xx: the graph
    "PS400": "dependency cycle",
    "PS401": "unknown step",
    "PS402": "unknown output",
    "PS403": "artifact type mismatch",
    "PS404": "unknown param",
    "PS405": "foreach over something that is not a list",
    "PS406": "step depends on itself",
    "PS407": "missing required input",
    "PS408": "unknown metric key",
    "PS409": "a step's own placeholder in `defaults`",
    "PS410": "nothing writes an output another step reads",
    "PS425": "${hyperparameters.NAME} outside a tune step",
    "PS430": "`parallelism` without `foreach`",
    "PS431": "${item.KEY} names no key of the foreach items",
    "PS432": "instance type or count reads a wrong or unknown param",
    "PS420": "`one_of` sources are not on exclusive branches",
    "PS421": "`one_of` sources have different types",
    "PS422": "a join with the default trigger rule after exclusive branches",
    "PS435": "a standard script called without an argument it requires",
    "PS436": "a standard script called with an argument it does not take",
    "PS437": "a metric key the producing standard script never writes",
    "PS438": "defaults.image runs a standard script",
    "PS439": "a declared output nothing writes or reads",
    "PS440": "an input the step never uses",
    # PS5xx: completeness, fill and the lock file
    "PS500": "step is incomplete",
    "PS501": "lock file missing or unreadable",
    "PS502": "lock entry is stale",
    "PS503": "LLM answer rejected",
    "PS504": "LLM request failed",
    "PS505": "no LLM configured",
    "PS506": "a filled script changed since it was locked",
    "PS507": "generated script failed the safety check",
    "PS508": "LLM script: import not on the menu",
    "PS509": "LLM script: name or attribute outside the allow-list",
    "PS510": "LLM script: dunder access",
    "PS511": "LLM script: file, network or process I/O",
    "PS512": "LLM script: format string reaching attributes",
    "PS513": "LLM answer or script too large",
    "PS514": "LLM answer nested too deeply",
    "PS515": "LLM request passed its deadline",
    "PS516": "lock entry does not pin the scripts its step runs",
    "PS520": "LLM script: reads a column or input nobody declared",
    "PS521": "LLM script: failed its trial run",
    "PS522": "LLM script: not run before it was locked",
    # PS6xx: backends
    "PS600": "the spec as written cannot be rendered for the target",
    "PS601": "unknown target",
    "PS602": "generated output is stale",
    "PS603": "the generated output of a spec is larger than the limit",
    "PS604": "the generated output of a run is larger than the limit",
    "PS605": "the target cannot express a feature the spec uses (will not compile)",
    "PS606": "the target emulates a feature the spec uses (behaves differently)",
    "PS607": "settings for a target that is not installed are not checked",
    "PS608": "two specs generate the same file",
    "PS609": "an installed target's plugin cannot be loaded",
    "PS610": "an output file cannot be written or read",
    "PS611": "a directory or file is in the way of an output file",
    "PS612": "an output file is not UTF-8 text",
    "PS613": "an interrupted write cannot be resolved",
    "PS614": "an interrupted write was recovered",
    "PS616": "a step's image is past its end of support",
    "PS617": "PIPESPEC_TODAY is not a date",
    "PS618": "a target the spec has no settings for is not compiled (--target all)",
    # PS9xx: internal
    "PS900": "internal error",
}


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Whether any of ``diagnostics`` is an error (warnings and notes never stop a run)."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


def printable(text: str) -> str:
    """``text`` with every character Python deems unprintable written as an escape
    (``\\n``, ``\\x1b``, ``\\u202e``): what diagnostics and CLI messages print.

    That is every control, format, separator and unassigned character but the space: line
    breaks (a spec could otherwise start a line of its own, such as a forged ``::error``
    workflow command), terminal escape sequences, invisible and bidirectional marks.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def printable_lines(text: str) -> str:
    """Multi-line text (a diff) with each line made ``printable``; the line breaks stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def printable_path(path: str) -> str:
    """A path as printed at the start of a line: escaped, and never starting like a
    workflow command (``::``) or an option (``-``); ``./`` names the same file."""
    text = printable(path)
    return "./" + text if text.startswith((":", "-")) else text


def _where(span: Span) -> str:
    return f"{printable_path(span.file)}:{span.line}:{span.col}"


def render_human(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None
) -> str:
    """``file:line:col: error[PS401]: message``, the source line, a caret, the hint.

    Every piece of text is escaped by ``printable``: a diagnostic is one block of lines
    whatever the spec's keys, values or file names hold.
    """
    sources = sources or {}
    blocks: list[str] = []
    for d in diagnostics:
        where = f"{_where(d.span)}: " if d.span else ""
        lines = [f"{where}{d.severity.value}[{d.code}]: {printable(d.message)}"]
        if d.span is not None:
            lines.extend(_code_frame(d.span, sources.get(d.span.file)))
        for span, message in d.related:
            lines.append(f"  note: {_where(span)}: {printable(message)}")
        if d.hint:
            lines.append(f"  = hint: {printable(d.hint)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _code_frame(span: Span, text: str | None) -> list[str]:
    if text is None:
        return []
    source_lines = text.splitlines()
    if not 1 <= span.line <= len(source_lines):
        return []
    raw = source_lines[span.line - 1].expandtabs(1)
    # Escaping may lengthen the text before the column: the caret follows it.
    line = printable(raw)
    col = len(printable(raw[: span.col - 1])) + 1
    gutter = str(span.line)
    width = 1
    if span.end_line == span.line and span.end_col is not None and span.end_col > span.col:
        width = len(printable(raw[span.col - 1 : span.end_col - 1]))
    line, col = _frame_window(line, col)
    width = max(1, min(width, len(line) - col + 1))
    return [
        f"{' ' * len(gutter)} |",
        f"{gutter} | {line}",
        f"{' ' * len(gutter)} | {' ' * (col - 1)}{'^' * width}",
    ]


FRAME_WIDTH = 120


def _frame_window(line: str, col: int) -> tuple[str, int]:
    """A long source line (a 60 KB flow mapping) shown as the part around the column."""
    if len(line) <= FRAME_WIDTH:
        return line, col
    start = max(0, min(col - 1 - FRAME_WIDTH // 3, len(line) - FRAME_WIDTH))
    window = line[start : start + FRAME_WIDTH]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + FRAME_WIDTH < len(line) else ""
    return prefix + window + suffix, col - start + len(prefix)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, sort_keys=True) + "\n"


def _github_escape(text: str, *, property_value: bool = False) -> str:
    # The workflow-command escapes GitHub documents for data and for property values; the
    # other control characters are escaped as in every output (they would reach the log).
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = printable(text)
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands, so errors annotate the spec in a pull request."""
    out: list[str] = []
    for d in diagnostics:
        level = {"error": "error", "warning": "warning", "note": "notice"}[d.severity.value]
        props = [f"title={_github_escape(d.code, property_value=True)}"]
        if d.span is not None:
            props = [
                f"file={_github_escape(d.span.file, property_value=True)}",
                f"line={d.span.line}",
                f"col={d.span.col}",
                *props,
            ]
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{level} {','.join(props)}::{_github_escape(message)}")
    return "\n".join(out) + ("\n" if out else "")


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate, phrased as a hint, or None when nothing is close."""
    import difflib

    pool = sorted(set(candidates))
    match = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            match = [lowered[word.lower()]]
    return f"did you mean '{match[0]}'?" if match else None
