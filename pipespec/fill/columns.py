"""The static column check: a body must read only the inputs and columns the spec declares.

A small model guesses column names (`amount`, `date`); the script would fail at run time
with a KeyError. This check reads the body with `ast` and, conservatively, only where the
frame is certain:

- `inputs["x"]` for an input the step does not have;
- on an input's frame, a literal column name that the input does not declare and that the
  body never creates: `f["a"]`, `f[["a", "b"]]`, `f.loc[..., "a"]`, `f.groupby(...)["a"]`,
  `f.get("a")`,
  `f.pop("a")`, `f.groupby("a")`, `f.sort_values("a")`, `f.set_index("a")`,
  `f.drop(columns=...)`, `f.drop_duplicates(subset=...)`, `f.dropna(subset=...)`,
  `f.rename(columns={"a": ...})`, `pd.get_dummies(f, columns=...)`.

An input's frame is `inputs["x"]`, or a name every assignment of which is `inputs["x"]` or
`inputs["x"].copy()`, and that no call changes in place (`inplace=True`, `f.columns = ...`).
Anything else (a filtered frame, a merged one, a computed name) is not checked: the trial
run (trial_run.py) catches what this misses. Reasons carry PS520.
"""

from __future__ import annotations

import ast
import difflib
import textwrap
from collections.abc import Iterator

from pipespec.fill.data_shape import Columns, DataShape

# Frame methods whose first positional argument or keyword names columns to read.
_READING_METHODS: dict[str, tuple[bool, tuple[str, ...]]] = {
    # method: (does the first positional argument name columns?, keywords that do)
    "get": (True, ("key",)),
    "pop": (True, ("item",)),
    "groupby": (True, ("by",)),
    "sort_values": (True, ("by",)),
    "set_index": (True, ("keys",)),
    "drop_duplicates": (True, ("subset",)),
    "dropna": (False, ("subset",)),
    "drop": (False, ("columns",)),
    "rename": (False, ("columns",)),
}


def column_problems(shape: DataShape, body: str) -> list[str]:
    """Reasons the body reads an input or a column nobody declared (each starts PS520)."""
    try:
        tree = ast.parse("def transform(inputs):\n" + textwrap.indent(textwrap.dedent(body), " "))
    except SyntaxError:
        return []  # the policy reports it (PS507)
    transform = tree.body[0]
    assert isinstance(transform, ast.FunctionDef)
    frames = _input_frames(transform, set(shape.inputs))
    created = _created_columns(transform)
    problems: list[str] = []
    for node in ast.walk(transform):
        problems.extend(_unknown_input(node, shape))
        for input_name, column, line in _columns_read(node, frames):
            columns = shape.inputs.get(input_name)
            if columns is None or column in columns or column in created:
                continue
            problems.append(_message(input_name, column, line - 1, columns))
    return sorted(set(problems))


def _message(input_name: str, column: str, line: int, columns: Columns) -> str:
    close = difflib.get_close_matches(column, list(columns), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(f"{name} ({kind})" for name, kind in columns.items())
    return (
        f"PS520: line {line} reads column {column!r} of input {input_name!r}, which does not "
        f"declare it{hint}; its columns are: {listed}"
    )


def _unknown_input(node: ast.AST, shape: DataShape) -> Iterator[str]:
    name = _input_subscript(node)
    if name is not None and name not in shape.inputs:
        have = ", ".join(sorted(shape.inputs)) or "none"
        line = getattr(node, "lineno", 1) - 1
        yield f"PS520: line {line} reads inputs[{name!r}], but the step's inputs are: {have}"


def _input_subscript(node: ast.AST) -> str | None:
    """`x` of `inputs["x"]` (read, not written)."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == "inputs"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def _frame_source(node: ast.AST) -> str | None:
    """The input `inputs["x"]` or `inputs["x"].copy()` stands for."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "copy"
        and not node.args
    ):
        node = node.func.value
    return _input_subscript(node)


def _input_frames(transform: ast.FunctionDef, inputs: set[str]) -> dict[str, str]:
    """Local name -> the input it certainly holds."""
    bound: dict[str, set[str | None]] = {}
    changed: set[str] = set()
    for node in ast.walk(transform):
        if isinstance(node, ast.arg):  # a lambda's or nested function's parameter
            bound.setdefault(node.arg, set()).add(None)
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, set()).add(_frame_source(node.value))
                continue
        for target in _stores(node):
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, set()).add(None)  # bound some other way
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                changed.add(target.value.id)  # f.columns = [...]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and any(k.arg == "inplace" for k in node.keywords):
                changed.add(owner.id)
    frames: dict[str, str] = {}
    for name, sources in bound.items():
        only = next(iter(sources)) if len(sources) == 1 else None
        if only is not None and only in inputs and name not in changed and name != "inputs":
            frames[name] = only
    return frames


def _stores(node: ast.AST) -> Iterator[ast.expr]:
    """Targets a statement binds or writes (assignments, loops, with, walrus, comprehensions)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(
        node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.comprehension, ast.NamedExpr)
    ):
        targets = [node.target]
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        targets = [node.optional_vars]
    for target in targets:
        yield from _flatten(target)


def _flatten(target: ast.expr) -> Iterator[ast.expr]:
    if isinstance(target, (ast.Tuple, ast.List)):
        for item in target.elts:
            yield from _flatten(item)
    elif isinstance(target, ast.Starred):
        yield from _flatten(target.value)
    else:
        yield target


def _created_columns(transform: ast.FunctionDef) -> set[str]:
    """Literal column names the body writes anywhere (`x["c"] = ...`, `x.insert(0, "c", v)`,
    `x.assign(c=...)`, `rename(columns={...: "c"})`): reading them later is fine."""
    created: set[str] = set()
    for node in ast.walk(transform):
        for target in _stores(node):
            if isinstance(target, ast.Subscript):
                created.update(_literal_names(target.slice))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr == "insert" and len(node.args) >= 2:
                created.update(_literal_names(node.args[1]))
            elif attr == "assign":
                created.update(k.arg for k in node.keywords if k.arg)
            for keyword in node.keywords:
                if keyword.arg == "columns" and isinstance(keyword.value, ast.Dict):
                    created.update(
                        v.value
                        for v in keyword.value.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    )
    return created


def _literal_names(node: ast.AST | None) -> list[str]:
    """A literal column name, or a list/tuple of them; [] for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        return [n for n in names if isinstance(n, str)]
    if isinstance(node, ast.Dict):  # rename(columns={"old": "new"}) reads the keys
        return [
            k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
        ]
    return []


def _frame_of(node: ast.AST, frames: dict[str, str]) -> str | None:
    """The input whose frame `node` is, if certain."""
    if isinstance(node, ast.Name):
        return frames.get(node.id)
    return _frame_source(node)


def _columns_read(node: ast.AST, frames: dict[str, str]) -> Iterator[tuple[str, str, int]]:
    """(input, column, line) for each literal column name `node` reads from an input's frame."""
    line = getattr(node, "lineno", 1)
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        owner = node.value
        index: ast.AST | None = node.slice
        if isinstance(owner, ast.Attribute) and owner.attr == "loc":
            owner = owner.value
            index = node.slice.elts[1] if isinstance(node.slice, ast.Tuple) else None
        elif (
            isinstance(owner, ast.Call)
            and isinstance(owner.func, ast.Attribute)
            and owner.func.attr == "groupby"
        ):
            owner = owner.func.value  # f.groupby(...)["a"] selects f's column a
        source = _frame_of(owner, frames)
        if source is not None:
            for column in _literal_names(index):
                yield source, column, line
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        yield from _method_reads(node, frames, line)


def _method_reads(
    node: ast.Call, frames: dict[str, str], line: int
) -> Iterator[tuple[str, str, int]]:
    assert isinstance(node.func, ast.Attribute)
    method = node.func.attr
    if method == "get_dummies" and node.args:  # pd.get_dummies(frame, columns=[...])
        source = _frame_of(node.args[0], frames)
        names = [n for k in node.keywords if k.arg == "columns" for n in _literal_names(k.value)]
    elif method in _READING_METHODS:
        source = _frame_of(node.func.value, frames)
        positional, keywords = _READING_METHODS[method]
        names = _literal_names(node.args[0]) if positional and node.args else []
        names += [n for k in node.keywords if k.arg in keywords for n in _literal_names(k.value)]
    else:
        return
    if source is not None:
        for column in names:
            yield source, column, line
