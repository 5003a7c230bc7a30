"""Trigger-time values spliced into code: a warning where a param reaches a shell script.

A param's value is chosen by whoever triggers a run. Passed as an argument of its own, it is
data whatever it holds; spliced into the script of `sh -c` (or `python -c`, `perl -e`, ...)
it is code, and a value with a quote or a `;` runs commands in the step's container. The
safe forms are a positional argument after the script (`sh -c 'echo "$1"' sh ${params.x}`),
an environment variable the script quotes, or a param whose `enum` or `pattern` every target
enforces when the run is triggered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from pipespec.compiler.graph import string_span
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.spec import models
from pipespec.spec.references import ParamRef, Placeholder, parse_input, split_placeholders
from pipespec.spec.validate import ValidatedSpec

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
# Interpreters that run the argument after this flag as a program.
CODE_FLAGS = {"python": "-c", "perl": "-e", "ruby": "-e", "node": "-e", "Rscript": "-e"}
# Param types whose value can carry quotes or separators (numbers and booleans cannot).
TEXT_TYPES = ("string", "list", "dict")


def _program(word: str) -> str:
    name = PurePosixPath(word).name
    if name.startswith("python"):  # python3, python3.11
        return "python"
    return name


def code_arguments(command: list[str]) -> Iterator[tuple[int, str]]:
    """(index, program) of the argument a command runs as a program (a script, `-c` code)."""
    i = 0
    # `env [VAR=value ...] sh -c ...` and `busybox sh -c ...` run the shell all the same.
    while i < len(command) and (
        _program(command[i]) in ("env", "busybox") or (i > 0 and "=" in command[i])
    ):
        i += 1
    if i >= len(command):
        return
    program = _program(command[i])
    j = i + 1
    while j < len(command) - 1:
        flag = command[j]
        if program in SHELLS and flag in ("-o", "+o", "-O", "+O"):
            j += 2  # a shell option and its name (`-o pipefail`)
            continue
        if not flag.startswith(("-", "+")) or flag == "--":
            return
        if program in SHELLS and "c" in flag.lstrip("-+") and not flag.startswith("--"):
            yield j + 1, program
            return
        if CODE_FLAGS.get(program) == flag:
            yield j + 1, program
            return
        j += 1


def _unconstrained(param: models.Param | None) -> bool:
    return (
        param is not None
        and param.type in TEXT_TYPES
        and param.enum is None
        and param.pattern is None
    )


def shell_splice_warnings(vspec: ValidatedSpec) -> list[Diagnostic]:
    """PS312 at every unconstrained text param spliced into code a command runs."""
    spec = vspec.spec
    if spec is None:
        return []
    params = spec.params or {}
    smap = vspec.loaded.source_map
    lines = vspec.loaded.text.splitlines()
    out: list[Diagnostic] = []
    for step_id, step in vspec.steps.items():
        command = list(step.command or [])
        # Inputs bound to a param carry its value as well.
        via_input = {}
        for input_name, source in (step.inputs or {}).items():
            if not isinstance(source, str):
                continue  # a one_of reads step outputs, never a param
            try:
                ref = parse_input(source)
            except ValueError:
                continue
            if isinstance(ref, ParamRef):
                via_input[input_name] = ref.name
        # `${item}` of a foreach over a list param is one of the param's values.
        item_param = None
        if isinstance(step.foreach, str) and step.foreach.startswith("params."):
            item_param = step.foreach.removeprefix("params.")
        for index, program in code_arguments(command):
            path = ("steps", step_id, "command", index)
            segments, _ = split_placeholders(command[index])
            for seg in segments:
                if not isinstance(seg, Placeholder):
                    continue
                name = {
                    "params": seg.name,
                    "inputs": via_input.get(str(seg.name)),
                    "item": item_param,
                }.get(seg.root)
                if name is None or not _unconstrained(params.get(str(name))):
                    continue
                out.append(
                    Diagnostic(
                        "PS312",
                        f"{seg} is spliced into the script that `{program}` runs: "
                        f"a value of param '{name}' with a quote or `;` runs as code",
                        string_span(smap, lines, path, seg.offset, seg.length),
                        "pass it as an argument of its own after the script (the script "
                        'reads "$1", or sys.argv[1]) or through env, or give param '
                        f"'{name}' an `enum` or a `pattern` (enforced when a run is triggered)",
                        Severity.WARNING,
                    )
                )
    return out
