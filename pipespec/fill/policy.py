"""The static policy an LLM-written script must pass before pipespec writes it.

The model answers with menu choices for its imports and the body of `transform(inputs)`;
pipespec writes every import line and the rest of the file (template.py). The body is then
read with `ast` against allow-lists, not deny-lists alone:

- names: locals, `inputs`, the names the chosen imports bind, and a few pure builtins;
- a module alias (`pd`, `np`, `math`, `re`) only as `alias.<allowed call target>`;
- attributes of other objects: none private (`_x`), no interpreter internals (`gi_frame`,
  `f_globals`, ...), no I/O method (`to_csv`, `tofile`, `read_*`, `save*`, `load*`, ...);
- no dunder in any form (names, attributes, keywords, string constants);
- no `.format`/`.format_map` whose template reaches attributes or items, no `%` templates;
- no imports, classes, `global`, `yield`, `await` in the body.

This is a static filter, not a sandbox (docs/fill.md says what it does not promise). Every
reason starts with its diagnostic code, so a rejection names its class of fault.
"""

from __future__ import annotations

import ast
import difflib
import re
import string
import textwrap
from collections.abc import Iterator, Sequence

from pipespec.fill.template import FRAME_IMPORTS, IMPORT_MENU, ScriptFrame, assemble

MAX_BODY_BYTES = 32 * 1024
"""A body larger than this is refused (PS513): transforms are short."""
MAX_SCRIPT_BYTES = 64 * 1024
"""The whole script; targets pass scripts inline (`python -c`), and Linux refuses an argument
over 128 KiB (E2BIG) at run time, so pipespec stays well under that at fill time."""


def _words(text: str) -> list[str]:
    return text.split()


# Call targets on module aliases, as dotted paths after the alias (`np.<path>`).
MODULE_TARGETS: dict[str, frozenset[str]] = {
    "pandas": frozenset(
        _words(
            """DataFrame Series Index MultiIndex RangeIndex DatetimeIndex Categorical
        CategoricalDtype Timestamp Timedelta Interval NA NaT concat merge merge_asof get_dummies
        from_dummies to_datetime to_numeric to_timedelta cut qcut isna isnull notna notnull
        unique factorize pivot_table crosstab melt wide_to_long date_range timedelta_range
        api.types.is_numeric_dtype api.types.is_string_dtype api.types.is_bool_dtype
        api.types.is_object_dtype api.types.is_datetime64_any_dtype
        api.types.is_integer_dtype api.types.is_float_dtype"""
        ),
    ),
    "numpy": frozenset(
        _words(
            """array asarray arange linspace zeros ones full zeros_like ones_like full_like where
        select clip log log1p log2 log10 exp expm1 sqrt square abs absolute sign round floor
        ceil trunc mean median std var sum prod min max nan inf pi e isnan isinf isfinite
        nanmean nanmedian nanstd nanvar nansum nanmin nanmax nanpercentile nanquantile
        percentile quantile unique concatenate stack vstack hstack column_stack argsort sort
        argmax argmin cumsum cumprod diff maximum minimum float64 float32 int64 int32 int8
        bool_ nan_to_num digitize histogram bincount corrcoef cov dot outer sin cos tan
        arctan2 power mod isin logical_and logical_or logical_not all any count_nonzero
        searchsorted tile repeat reshape ravel transpose random.default_rng random.seed
        random.permutation random.shuffle random.choice random.rand random.randn random.random
        random.randint random.uniform random.normal"""
        ),
    ),
    "math": frozenset(
        _words(
            """sqrt log log1p log2 log10 exp expm1 floor ceil trunc fabs isnan isinf isfinite
        isclose pow pi e inf nan tau sin cos tan atan2 hypot comb factorial gcd"""
        ),
    ),
    "re": frozenset(
        _words(
            """compile sub subn match search fullmatch findall finditer split escape IGNORECASE I
        MULTILINE M DOTALL S VERBOSE X ASCII A"""
        ),
    ),
}

SAFE_BUILTINS = frozenset(
    _words(
        """abs all any bool dict divmod enumerate filter float frozenset int isinstance len list
    map max min print range reversed round set slice sorted str sum tuple zip iter next
    repr chr ord bytes complex ValueError KeyError TypeError IndexError RuntimeError
    ZeroDivisionError ArithmeticError Exception"""
    ),
)

# Methods that reach files, the network or processes, on whatever object they hang.
_IO_ATTRIBUTE = re.compile(
    r"""^(?:
        read_.*|save.*|load.*|fetch_.*|dump.*|write.*|print_.*|open.*|urlopen|urlretrieve
        |tofile|fromfile|genfromtxt|loadtxt|savetxt|memmap|mkdir|makedirs|unlink|rmdir|rmtree
        |touch|chmod|chown|symlink_to|system|popen|spawn.*|exec.*|eval|query|pipe_to
        |plot|hist|boxplot|style|ctypes
        |to_(?!(?:numpy|dict|list|frame|period|timestamp|flat_index|pydatetime|series|records
            |numeric|datetime|timedelta|tuples|dense|coo)$).*
    )$""",
    re.VERBOSE,
)
# Interpreter internals that lead from any object to frames, globals and code.
_INTERNALS = re.compile(r"^(?:gi_|f_|tb_|cr_|ag_|co_|func_|im_).*|^(?:mro|ctypes)$")

_FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.Import: "PS508: transform() may not import; choose imports from the menu",
    ast.ImportFrom: "PS508: transform() may not import; choose imports from the menu",
    ast.ClassDef: "PS509: transform() may not define classes",
    ast.Global: "PS509: transform() may not use global or nonlocal",
    ast.Nonlocal: "PS509: transform() may not use global or nonlocal",
    ast.Yield: "PS509: transform() may not yield",
    ast.YieldFrom: "PS509: transform() may not yield",
    ast.Await: "PS509: transform() may not await",
    ast.AsyncFunctionDef: "PS509: transform() may not define async functions",
}


def import_bindings(lines: list[str]) -> dict[str, str | None]:
    """Names the chosen menu lines bind: alias -> module (None for a class or function)."""
    bound: dict[str, str | None] = {"pd": "pandas"}
    for line in lines:
        for node in ast.parse(line).body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    bound[alias.asname or alias.name] = None
    return bound


def check_answer(frame: ScriptFrame, imports: list[str], body: str) -> list[str]:
    """Reasons the model's answer is refused (each starts with its code); [] to accept."""
    problems = [
        f"PS508: import {line!r} is not on the menu; choose from the `imports` enum"
        for line in imports
        if line not in IMPORT_MENU
    ]
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        return [*problems, f"PS513: the body is over {MAX_BODY_BYTES // 1024} KiB"]
    if problems:
        return problems
    wrapped = wrapped_in_def(body)
    if wrapped:
        return [wrapped]
    script = assemble(frame, imports, body)
    if len(script.encode("utf-8")) > MAX_SCRIPT_BYTES:
        return [f"PS513: the script is over {MAX_SCRIPT_BYTES // 1024} KiB"]
    try:
        tree = ast.parse(script)
        bare = ast.parse(assemble(frame, imports, "pass"))
    except SyntaxError as exc:
        return [f"PS507: the script does not parse: {exc.msg} (line {exc.lineno})"]
    transform = _transform(tree)
    # The body must stay inside transform(): everything else is the frame, node for node.
    if transform is None or _without_body(tree) != _without_body(bare):
        return ["PS507: the body does not stay inside transform()"]
    return check_body(transform, import_bindings(imports), frame.outputs)


def wrapped_in_def(body: str) -> str | None:
    """The concrete instruction when the answer is a whole function, not its body.

    Small models often send `def transform(inputs): ...`; inside transform() that nested
    function would never run (and its `return` would look like transform's own)."""
    try:
        tree = ast.parse(textwrap.dedent(body).strip("\n"))
    except SyntaxError:
        return None
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    others = [
        node
        for node in tree.body
        if not isinstance(node, ast.FunctionDef) and not _is_docstring(node)
    ]
    if len(defs) != 1 or any(not _calls(node, defs[0].name) for node in others):
        return None
    return (
        f"PS507: the answer is a whole function (`def {defs[0].name}(...)`), not its body: "
        "send only the statements inside it, without the def line and without an extra "
        "level of indentation"
    )


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and _is_text(node.value)


def _calls(node: ast.stmt, name: str) -> bool:
    """`return f(inputs)` or `f(inputs)`: the wrapper calling its own function."""
    value = node.value if isinstance(node, (ast.Return, ast.Expr)) else None
    return (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == name
    )


def check_script(text: str) -> list[str]:
    """Re-check a written script (compile does, for LLM-written ones); [] when it passes."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [f"PS507: the script does not parse: {exc.msg} (line {exc.lineno})"]
    problems: list[str] = []
    chosen: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            line = ast.unparse(node)
            if line in IMPORT_MENU:
                chosen.append(line)
            elif line not in FRAME_IMPORTS:
                problems.append(f"PS508: import {line!r} is not one pipespec writes")
    transform = _transform(tree)
    if transform is None:
        return [*problems, "PS507: the script has no transform() function"]
    return sorted({*problems, *check_body(transform, import_bindings(chosen))})


def _transform(tree: ast.Module) -> ast.FunctionDef | None:
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "transform"]
    return found[0] if len(found) == 1 else None


def _without_body(tree: ast.Module) -> str:
    """The module's AST with transform()'s body left out."""
    parts = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "transform":
            parts.append(ast.dump(ast.FunctionDef(node.name, node.args, [], [], node.returns)))
        else:
            parts.append(ast.dump(node))
    return "\n".join(parts)


def check_body(
    transform: ast.FunctionDef, bound: dict[str, str | None], outputs: Sequence[str] = ()
) -> list[str]:
    """Reasons transform()'s body breaks the policy, given the names the imports bind
    (``outputs``: the output names, for a concrete message when nothing is returned)."""
    parents = {child: node for node in ast.walk(transform) for child in ast.iter_child_nodes(node)}
    local = _locals(transform)
    problems: list[str] = []
    for node in ast.walk(transform):
        if node is not transform and type(node) in _FORBIDDEN_NODES:
            problems.append(_FORBIDDEN_NODES[type(node)])
        problems.extend(_dunders(node))
        if isinstance(node, ast.Name):
            problems.extend(_name(node, bound, local, parents))
        elif isinstance(node, ast.Attribute):
            problems.extend(_attribute(node, bound, local))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _IO_ATTRIBUTE.match(node.value) and node.value.isidentifier():
                problems.append(f"PS511: the string {node.value!r} names an I/O function")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
            problems.append("PS512: no %-formatting of strings; use an f-string")
    problems.extend(_returns(transform, outputs))
    return sorted(set(problems))


def _own_nodes(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """The function's nodes, without those of functions and lambdas nested in it."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _returns(transform: ast.FunctionDef, outputs: Sequence[str]) -> Iterator[str]:
    """transform() itself must return a value: a `return` inside a nested function does
    not count (it would fake the check and the script would return None)."""
    own = [n for n in _own_nodes(transform) if isinstance(n, ast.Return)]
    if any(n.value is not None for n in own):
        for node in own:
            yield from _returned_keys(node, outputs)
        return
    names = ", ".join(f'"{name}": ...' for name in outputs) or '"name": frame'
    nested = [n.name for n in _own_nodes(transform) if isinstance(n, ast.FunctionDef)]
    where = (
        f" (a `return` inside the nested function {nested[0]!r} does not count)" if nested else ""
    )
    yield (
        f"PS507: transform() never returns its outputs{where}: end the body with "
        f"`return {{{names}}}`"
    )


def _returned_keys(node: ast.Return, outputs: Sequence[str]) -> Iterator[str]:
    """A returned dict literal must be keyed by the output names. Small models key it by
    the step's name or their variable's; the run would fail with "no frame for"."""
    value = node.value
    if not outputs or not isinstance(value, ast.Dict) or None in value.keys:
        return
    keys = [k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if len(keys) != len(value.keys) or set(keys) == set(outputs):
        return
    fix = ""
    if len(value.keys) == len(outputs) == 1:
        fix = f': return {{"{outputs[0]}": {ast.unparse(value.values[0])}}}'
    names = ", ".join(f"'{name}'" for name in outputs)
    given = ", ".join(f"'{key}'" for key in keys) or "none"
    yield (
        f"PS507: transform() returns the keys {given}, but the outputs are named {names}: "
        f"key the returned dict by exactly those names{fix}"
    )


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _locals(transform: ast.FunctionDef) -> set[str]:
    """Every name the body binds (assignments, loop targets, arguments, nested defs)."""
    names: set[str] = set()
    for node in ast.walk(transform):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not transform:
            if isinstance(node, ast.FunctionDef):
                names.add(node.name)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


def _dunders(node: ast.AST) -> Iterator[str]:
    """Dunder access in any form: names, attributes, keywords, strings, bytes."""
    texts: list[str] = []
    if isinstance(node, ast.Name):
        texts.append(node.id)
    elif isinstance(node, ast.Attribute):
        texts.append(node.attr)
    elif isinstance(node, (ast.keyword, ast.arg)) and node.arg:
        texts.append(node.arg)
    elif isinstance(node, ast.FunctionDef):
        texts.append(node.name)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        value = node.value
        texts.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    for text in texts:
        if "__" in text:
            yield f"PS510: transform() may not use dunder names or strings ({_short(text)})"


def _name(
    node: ast.Name,
    bound: dict[str, str | None],
    local: set[str],
    parents: dict[ast.AST, ast.AST],
) -> Iterator[str]:
    if not isinstance(node.ctx, ast.Load):
        if node.id in bound:
            yield f"PS509: transform() may not rebind the import {node.id!r}"
        return
    name = node.id
    if name in local or name == "inputs" or (name in SAFE_BUILTINS and name not in bound):
        return
    if name not in bound:
        hint = next((line for line in IMPORT_MENU if name in import_bindings([line])), None)
        # Small models misspell their own variables (`neu_orders` for `eu_orders`): naming
        # the likely one is what makes the next answer differ.
        close = difflib.get_close_matches(name, sorted({*local, "inputs", *bound}), n=1)
        extra = (
            f" (choose {hint!r} from the import menu)"
            if hint
            else _did_you_mean(node, close[0], parents)
            if close
            else ""
        )
        yield (
            f"PS509: transform() may not use {name!r}: "
            f"not a local, an import or a safe builtin{extra}"
        )
        return
    module = bound[name]
    if module is None:
        return  # an imported class or function: its attributes follow the object rules
    path: list[str] = []
    current: ast.AST = node
    while isinstance(parent := parents.get(current), ast.Attribute) and parent.value is current:
        path.append(parent.attr)
        current = parent
    dotted = ".".join(path)
    if dotted in MODULE_TARGETS.get(module, frozenset()):
        return
    if any(_IO_ATTRIBUTE.match(part) for part in path):
        yield f"PS511: transform() may not use {name}.{dotted}: pipespec reads and writes files"
    else:
        what = f"{name}.{dotted}" if dotted else f"the module {name} itself"
        yield f"PS509: transform() may not use {what}: not an allowed {module} call target"


def _did_you_mean(node: ast.Name, close: str, parents: dict[ast.AST, ast.AST]) -> str:
    """The name to use, and the statement rewritten with it: a small model given only the
    name sends the same answer again, word for word."""
    statement: ast.AST = node
    while not isinstance(statement, ast.stmt) and statement in parents:
        statement = parents[statement]
    fixed = ""
    if isinstance(statement, ast.stmt) and not isinstance(statement, ast.FunctionDef):
        line = re.sub(rf"\b{re.escape(node.id)}\b", close, ast.unparse(statement))
        if "\n" not in line and len(line) <= 200:
            fixed = f"; write that line as: {line}"
    return f" (did you mean {close!r}?{fixed})"


def _attribute(node: ast.Attribute, bound: dict[str, str | None], local: set[str]) -> Iterator[str]:
    attr = node.attr
    root: ast.AST = node.value
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and bound.get(root.id) is not None and root.id not in local:
        return  # a module alias: its whole chain is checked against MODULE_TARGETS
    if attr.startswith("__"):
        return  # reported as a dunder
    if attr.startswith("_") or _INTERNALS.match(attr):
        yield f"PS509: transform() may not use the internal attribute .{attr}"
    elif _IO_ATTRIBUTE.match(attr):
        yield f"PS511: transform() may not call .{attr}: pipespec reads and writes artifacts"
    elif attr in ("format", "format_map"):
        yield from _format_call(node)


def _format_call(node: ast.Attribute) -> Iterator[str]:
    """`"{0.x}".format(obj)` reaches attributes of anything; plain fields are fine."""
    template = node.value
    if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
        yield f"PS512: .{node.attr} only on a string literal (use an f-string)"
        return
    try:
        fields = list(string.Formatter().parse(template.value))
    except ValueError:
        yield f"PS512: the template of .{node.attr} does not parse"
        return
    for _, name, spec, _ in fields:
        if any(ch in (name or "") for ch in ".[") or "{" in (spec or ""):
            yield f"PS512: the template of .{node.attr} reaches attributes or items"
            return


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
