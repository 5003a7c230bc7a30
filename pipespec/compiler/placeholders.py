"""`${...}` placeholders in commands, arguments and env: each must name something that exists.

Shared by the graph checks (per step) and `defaults.env` (pipeline-wide, so only params).
"""

from __future__ import annotations

from collections.abc import Iterable

from pipespec.compiler.pod import item_key_problem
from pipespec.diagnostics import Diagnostic, Span, did_you_mean
from pipespec.spec import models
from pipespec.spec.loader import NodePath, SourceMap
from pipespec.spec.references import Placeholder, Segment, split_placeholders
from pipespec.spec.validate import ValidatedSpec


def string_span(
    smap: SourceMap, lines: list[str], path: NodePath, offset: int, length: int
) -> Span:
    """The span of ``length`` characters at ``offset`` inside the scalar at ``path``.

    Exact when the scalar sits on one line and reads in the source as it is (no escapes);
    otherwise the scalar's own start, which is still the right line.
    """
    info = smap.info(path)
    if info is None:
        return smap.span(path)
    span = info.span
    if info.style not in ("", "'", '"') or span.end_line != span.line:
        return span
    quote = 1 if info.style in ("'", '"') else 0
    if not 0 < span.line <= len(lines):
        return span
    line = lines[span.line - 1]
    start = span.col - 1 + quote
    value_end = (span.end_col or span.col) - 1 - quote
    raw = line[start:value_end]
    if offset > len(raw):
        return span
    return span.shifted(quote + offset, max(1, min(length, len(raw) - offset)))


class PlaceholderChecks:
    """The placeholder half of the graph checker; it reports into ``diags``."""

    vspec: ValidatedSpec
    smap: SourceMap
    lines: list[str]
    params: dict[str, str]
    diags: list[Diagnostic]

    def err(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, hint))

    def _placeholders(
        self, step: models.StepBase, outputs: dict[str, str], path: NodePath, value: str
    ) -> tuple[Segment, ...]:
        segments, found = self._split(path, value)
        for seg, span in found:
            if seg.root == "item":
                if step.foreach is None:
                    self.err(
                        "PS311",
                        "${item} is only defined in a step with `foreach:`",
                        span,
                        "add `foreach:` or remove ${item}",
                    )
                else:
                    problem = item_key_problem(step.foreach, seg.name)
                    if problem is not None:
                        self.err("PS431", problem[0], span, problem[1])
                continue
            if seg.root == "hyperparameters" and not self._trial_value_ok(step, seg, span):
                continue
            names: Iterable[str] = {
                "hyperparameters": (getattr(step, "search_space", None) or {}).keys(),
                "inputs": (step.inputs or {}).keys(),
                "outputs": outputs.keys(),
                "params": self.params.keys(),
            }[seg.root]
            names = list(names)
            if seg.name not in names:
                what = {
                    "inputs": "input",
                    "outputs": "output",
                    "params": "param",
                    "hyperparameters": "dimension of the search_space",
                }[seg.root]
                self.err(
                    "PS310",
                    f"{seg} names no {what} of this {'pipeline' if what == 'param' else 'step'}",
                    span,
                    _placeholder_hint(seg, names),
                )
        return tuple(segments)

    def _split(
        self, path: NodePath, value: str
    ) -> tuple[list[Segment], list[tuple[Placeholder, Span]]]:
        """The value's segments (a malformed `${...}` reported, PS310), and each placeholder
        with its span in the source."""
        segments, issues = split_placeholders(value)
        for issue in issues:
            span = string_span(self.smap, self.lines, path, issue.offset, issue.length)
            self.err("PS310", issue.message, span, issue.hint)
        found = [
            (seg, string_span(self.smap, self.lines, path, seg.offset, seg.length))
            for seg in segments
            if isinstance(seg, Placeholder)
        ]
        return segments, found

    def _trial_value_ok(self, step: models.StepBase, seg: Placeholder, span: Span) -> bool:
        """`${hyperparameters.X}` is one trial's value: only a tune step with a search space
        has trials (a tune step without one is reported at its own line, PS240)."""
        if not isinstance(step, models.TuneStep):
            self.err(
                "PS425",
                f"{seg} is only defined in a `kind: tune` step (one trial's value of its "
                "search_space)",
                span,
                "make the step `kind: tune` with a `search_space:`, or pass a fixed value",
            )
            return False
        return bool(step.search_space)

    def check_defaults_env(self) -> None:
        """`defaults.env` applies to every step, so only pipeline-wide placeholders fit."""
        defaults = self.vspec.loaded.data.get("defaults")
        env = defaults.get("env") if isinstance(defaults, dict) else None
        if not isinstance(env, dict):
            return  # a wrong shape was reported by validation
        for key, value in env.items():
            if not isinstance(value, str):
                continue
            _, found = self._split(("defaults", "env", key), value)
            for seg, span in found:
                if seg.root != "params":
                    self.err(
                        "PS409",
                        f"{seg} in `defaults` names something of one step, but defaults "
                        "apply to every step",
                        span,
                        f"move {key} to the `env:` of the step it belongs to",
                    )
                elif seg.name not in self.params:
                    self.err(
                        "PS310",
                        f"{seg} names no param of this pipeline",
                        span,
                        _placeholder_hint(seg, self.params),
                    )


def _placeholder_hint(seg: Placeholder, names: Iterable[str]) -> str:
    """'did you mean ${inputs.data}?' for a near miss, else where to declare the name."""
    hint = did_you_mean(str(seg.name), names)
    if hint is None:
        where = "search_space" if seg.root == "hyperparameters" else seg.root
        return f"declare it under `{where}:`"
    return hint.replace("'", "'${" + seg.root + ".", 1).replace("'?", "}'?")
