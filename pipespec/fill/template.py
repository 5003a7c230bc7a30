"""Scripts the LLM helps write: pipespec owns the frame, the model writes one function body.

The frame (argument parsing, reading inputs, writing outputs) is fixed here; the model
supplies import lines and the body of `transform(inputs) -> outputs`. The assembled file is
parsed with `ast` and checked: imports from an allow-list only, no dynamic code, no file,
process or network access from the body. A script that fails is rejected, never written.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from pipespec.backends.pysafe import comment, py_literal

ALLOWED_IMPORT_ROOTS = frozenset(
    {
        "pandas",
        "numpy",
        "sklearn",
        "scipy",
        "math",
        "statistics",
        "re",
        "json",
        "datetime",
        "collections",
        "itertools",
        "functools",
        "typing",
        "string",
        "decimal",
        "unicodedata",
    }
)
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "input",
        "breakpoint",
        "exit",
        "quit",
        "memoryview",
        # The frame's own names: the body works on the frames it is given.
        "pathlib",
        "argparse",
        "_read",
        "_write",
        "main",
    }
)
# I/O belongs to the frame: the body transforms frames in memory.
FORBIDDEN_ATTRIBUTE_PREFIXES = ("read_", "to_csv", "to_parquet", "to_pickle", "to_sql", "to_json")
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "to_excel",
        "to_hdf",
        "to_feather",
        "to_stata",
        "to_clipboard",
        "system",
        "popen",
        "load",
        "open",
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "mkdir",
        "touch",
    }
)


@dataclass(frozen=True)
class ScriptFrame:
    step_id: str
    description: str
    inputs: tuple[str, ...]  # dataset input names
    outputs: tuple[str, ...]  # dataset output names
    spec_file: str
    source: str  # e.g. llm:model-name
    prompt_version: str


def _flag(kind: str, name: str) -> str:
    return f"--{kind}-{name.replace('_', '-')}"


def assemble(frame: ScriptFrame, imports: list[str], body: str) -> str:
    """The complete script text (not yet checked: call `check_script`)."""
    body_text = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") or "    pass"
    lines = sorted({line.strip() for line in imports if line.strip()})
    import_text = "".join(f"{line}\n" for line in lines)
    arguments = "\n".join(
        f"    parser.add_argument({py_literal(_flag(kind, name))}, required=True)"
        for kind, names in (("input", frame.inputs), ("output", frame.outputs))
        for name in names
    )
    read = ", ".join(f"{py_literal(name)}: _read(args.input_{name})" for name in frame.inputs)
    writes = "\n".join(
        f"    _write(outputs[{py_literal(name)}], args.output_{name})" for name in frame.outputs
    )
    step = comment(repr(frame.step_id))
    return f'''# Written by `pipespec fill` for step {step} of {comment(frame.spec_file)}
# ({comment(frame.source)}, prompt {comment(frame.prompt_version)}). pipespec wrote the frame
# (arguments, reading and writing artifacts); the model wrote `transform`. Review it like
# any code: the lock file pins this file's hash, so an edit needs `pipespec fill` again.
from __future__ import annotations

import argparse
import pathlib

import pandas as pd
{import_text}
DESCRIPTION = {py_literal(frame.description)}
OUTPUTS = {py_literal(list(frame.outputs))}


def transform(inputs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
{body_text}


def _read(path: str) -> pd.DataFrame:
    """A CSV file, or every CSV file in a directory (an artifact written by another step)."""
    target = pathlib.Path(path)
    if target.is_dir():
        files = sorted(target.rglob("*.csv"))
        if not files:
            raise SystemExit(f"no CSV files in {{path}}")
        return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return pd.read_csv(target)


def _write(frame: pd.DataFrame, path: str) -> None:
    """An artifact is a directory; the frame goes to data.csv inside it."""
    target = pathlib.Path(path)
    target.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target / "data.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
{arguments}
    args = parser.parse_args()
    outputs = transform({{{read}}})
    missing = sorted(set(OUTPUTS) - set(outputs))
    if missing:
        raise SystemExit(f"transform() returned no frame for: {{', '.join(missing)}}")
{writes}


if __name__ == "__main__":
    main()
'''


def check_script(text: str) -> list[str]:
    """Reasons the script is unsafe or broken; empty when it passes."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [f"the script does not parse: {exc.msg} (line {exc.lineno})"]
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_import(alias.name, problems)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                problems.append("relative imports are not allowed")
            _check_import(node.module or "", problems)
    transform = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "transform"),
        None,
    )
    if transform is None:
        return [*problems, "the script has no transform() function"]
    for node in ast.walk(transform):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"transform() may not use {node.id}()")
        elif isinstance(node, ast.Attribute):
            attr = node.attr
            if attr.startswith("__"):
                problems.append(f"transform() may not use dunder attribute {attr}")
            elif attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES) or attr in FORBIDDEN_ATTRIBUTES:
                problems.append(
                    f"transform() may not call .{attr}: pipespec reads and writes artifacts"
                )
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            problems.append("transform() may not import; list imports separately")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            problems.append("transform() may not use global or nonlocal")
    if not any(isinstance(n, ast.Return) for n in ast.walk(transform)):
        problems.append("transform() never returns its outputs")
    return sorted(set(problems))


def _check_import(module: str, problems: list[str]) -> None:
    root = module.partition(".")[0]
    if root not in ALLOWED_IMPORT_ROOTS and root not in ("__future__", "argparse", "pathlib"):
        allowed = ", ".join(sorted(ALLOWED_IMPORT_ROOTS))
        problems.append(f"import of {module!r} is not allowed (allowed: {allowed})")
