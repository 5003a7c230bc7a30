"""CEL for the Kubeflow probe: KFP's two expression environments, with cel-python.

Part of the probe (``kfp_probe.py``): it runs in the ``kfp`` conformance venv, where
cel-python (``celpy``) is installed; it is imported lazily so that this module type-checks
in pipespec's own environment.

KFP's driver (backend/src/v2/expression/expression.go) evaluates two kinds of expression
with cel-go:

* a ``triggerPolicy.condition``, in an environment whose context is an ``ExecutorInput``:
  the variables are ``inputs`` and ``outputs``, and ``inputs.parameter_values`` maps each
  of the task's input names to a ``google.protobuf.Value``;
* a ``parameterExpressionSelector``, whose context is one ``google.protobuf.Value``: its set
  field (``number_value``, ``struct_value``...) plus ``string_value``, always there, holding
  the value as text (JSON for lists and structs).

Both declare ``parseJson(string) -> dyn``. cel-go reads every JSON number, and every number in
a ``Value``, as a double; the conversions here do the same, so ``parseJson('{"n": 1}')["n"]``
is ``1.0`` as in the driver. cel-python only parses at "compile" time, so the undeclared names
cel-go's checker would reject are found here by walking the parse tree.
"""

from __future__ import annotations

import ast as pyast
import importlib
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

# Fields of google.protobuf.Value: the select environment's variables (proto field names).
VALUE_FIELDS = frozenset(
    ["null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"]
)
CONDITION_VARIABLES = frozenset(["inputs", "outputs"])
# Macros bind a variable in their first argument (`list.all(x, x > 0)`).
_MACROS = frozenset(["all", "exists", "exists_one", "map", "filter"])
# Functions cel-go's standard environment declares that cel-python keeps apart or lacks.
_EXTRA_FUNCTIONS = frozenset(["parseJson", "dyn", "has"])
_MAX_ERROR = 300


class CelError(Exception):
    """An expression that does not compile, names something undeclared, or fails."""


def _celpy() -> Any:
    return importlib.import_module("celpy")


def _celtypes() -> Any:
    return importlib.import_module("celpy.celtypes")


def to_cel(value: Any) -> Any:
    """A JSON value as the driver's CEL sees it: every number a double."""
    types = _celtypes()
    if value is None:
        return None
    if isinstance(value, bool):
        return types.BoolType(value)
    if isinstance(value, (int, float)):
        return types.DoubleType(float(value))
    if isinstance(value, str):
        return types.StringType(value)
    if isinstance(value, list):
        return types.ListType([to_cel(v) for v in value])
    if isinstance(value, dict):
        return types.MapType({types.StringType(k): to_cel(v) for k, v in value.items()})
    raise CelError(f"not a JSON value: {value!r}")


def from_cel(value: Any) -> Any:
    """A CEL result back as JSON (what ``structpb.NewValue`` makes of it)."""
    types = _celtypes()
    if value is None:
        return None
    if isinstance(value, types.BoolType):
        return bool(value)
    if isinstance(value, (types.IntType, types.UintType)):
        return int(value)
    if isinstance(value, types.DoubleType):
        return float(value)
    if isinstance(value, types.StringType):
        return str(value)
    if isinstance(value, types.ListType):
        return [from_cel(v) for v in value]
    if isinstance(value, types.MapType):
        return {str(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str)):  # cel-python's arithmetic can leak natives
        return value
    raise CelError(f"result of type {type(value).__name__} is not a protobuf Value")


def value_text(value: Any) -> str:
    """``metadata.PbValueToText``: how the driver turns a Value into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        # Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent.
        text = format(Decimal(repr(float(value))), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _parse_json(arg: Any) -> Any:
    if not isinstance(arg, _celtypes().StringType):
        raise CelError(f"parseJson takes a string, got {type(arg).__name__}")
    try:
        return to_cel(json.loads(str(arg)))
    except json.JSONDecodeError as exc:
        raise CelError(f"failed to unmarshal JSON: {exc}") from exc


def _short(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    text = text.split(" (in activation", 1)[0]  # cel-python appends the whole activation
    return text[:_MAX_ERROR]


def compile_expr(text: str) -> Any:
    """Parse ``text``; raise :class:`CelError` with the parser's message if it does not."""
    celpy = _celpy()
    try:
        return celpy.Environment().compile(text)
    except celpy.CELParseError as exc:
        raise CelError(f"does not parse: {_short(exc).strip()}") from exc


def _subtrees(tree: Any) -> Iterator[Any]:
    yield from tree.iter_subtrees()


def _sole(tree: Any) -> Any:
    """Descend through single-child wrapper nodes (expr -> ... -> primary)."""
    while hasattr(tree, "children") and len(tree.children) == 1 and hasattr(tree, "data"):
        child = tree.children[0]
        if not hasattr(child, "data"):
            return tree
        tree = child
    return tree


def _token(tree: Any) -> str:
    return str(tree.children[0])


def _known_functions() -> frozenset[str]:
    names = _celpy().evaluation.base_functions
    return frozenset(n for n in names if n.isidentifier()) | _EXTRA_FUNCTIONS


def undeclared(tree: Any, variables: frozenset[str]) -> list[str]:
    """Names cel-go's checker would reject: free variables not in ``variables``, unknown
    functions and methods, and (in the condition environment) unknown ExecutorInput fields."""
    bound = set()
    for node in _subtrees(tree):
        if node.data == "member_dot_arg" and str(node.children[1]) in _MACROS:
            args = node.children[2]
            if args is not None and args.children:
                var = _sole(args.children[0])
                if var.data == "ident":
                    bound.add(_token(var))
    functions = _known_functions()
    problems = []
    for node in _subtrees(tree):
        if node.data == "ident" and _token(node) not in variables | bound:
            problems.append(f"undeclared reference to '{_token(node)}'")
        elif node.data == "ident_arg" and _token(node) not in functions:
            problems.append(f"undeclared function '{_token(node)}'")
        elif node.data == "member_dot_arg":
            method = str(node.children[1])
            if method not in functions and method not in _MACROS:
                problems.append(f"undeclared function '{method}'")
    return sorted(set(problems))


def field_problems(tree: Any, fields: Mapping[str, frozenset[str]]) -> list[str]:
    """``var.field`` where ``var`` is a context message (``inputs``) and ``field`` is not one
    of its fields (cel-go: "undefined field")."""
    problems = []
    for node in _subtrees(tree):
        if node.data != "member_dot":
            continue
        base = _sole(node.children[0])
        if base.data == "ident" and _token(base) in fields:
            name = str(node.children[1])
            if name not in fields[_token(base)]:
                problems.append(f"undefined field '{name}' of '{_token(base)}'")
    return sorted(set(problems))


def indexed_keys(tree: Any, var: str, field: str) -> list[str]:
    """The literal string keys of ``var.field['KEY']`` in the expression."""
    keys = []
    for node in _subtrees(tree):
        if node.data != "member_index":
            continue
        base = _sole(node.children[0])
        if base.data != "member_dot" or str(base.children[1]) != field:
            continue
        owner = _sole(base.children[0])
        if owner.data != "ident" or _token(owner) != var:
            continue
        key = _sole(node.children[1])
        if key.data == "literal":
            raw = _token(key)
            if raw[:1] in "'\"":
                keys.append(str(pyast.literal_eval(raw)))
    return keys


def evaluate(tree: Any, activation: Mapping[str, Any]) -> Any:
    """Run a compiled expression with ``parseJson`` registered; raise :class:`CelError`."""
    celpy = _celpy()
    program = celpy.Environment().program(tree, functions={"parseJson": _parse_json})
    try:
        result = program.evaluate(dict(activation))
    except CelError:
        raise
    except celpy.CELEvalError as exc:
        raise CelError(f"evaluation error: {_short(exc)}") from exc
    except Exception as exc:  # cel-python lets some type errors through unwrapped
        raise CelError(f"evaluation error: {type(exc).__name__}: {_short(exc)}") from exc
    if isinstance(result, celpy.CELEvalError):
        raise CelError(f"evaluation error: {_short(result)}")
    return result


def is_type_error(error: CelError) -> bool:
    """Whether a failed evaluation is a type error (no overload for the operands, a non-bool
    condition), rather than a missing key that real values could have."""
    cause = error.__cause__
    if isinstance(cause, _celpy().CELEvalError) and len(cause.args) > 1:
        return cause.args[1] is TypeError
    return "no matching overload" in str(error) or "not bool" in str(error)


def condition_activation(parameter_values: Mapping[str, Any]) -> dict[str, Any]:
    """The condition environment for an ExecutorInput holding these parameter values."""
    types = _celtypes()
    inputs = {
        "parameter_values": to_cel(dict(parameter_values)),
        "parameters": types.MapType({}),
        "artifacts": types.MapType({}),
    }
    outputs = {"parameters": {}, "artifacts": {}, "output_file": ""}
    return {
        "inputs": types.MapType({types.StringType(k): v for k, v in inputs.items()}),
        "outputs": to_cel(outputs),
    }


def run_condition(text: str, parameter_values: Mapping[str, Any]) -> bool:
    """``Expr.Condition``: the condition on these (already resolved) parameter values."""
    tree = compile_expr(text)
    result = evaluate(tree, condition_activation(parameter_values))
    if not isinstance(result, _celtypes().BoolType):
        raise CelError(f"evaluation error: return type is not bool, got {result!r}")
    return bool(result)


def select_activation(value: Any) -> dict[str, Any]:
    """``Expr.Select``'s variables: the Value's set field, plus ``string_value`` as text."""
    if value is None:
        fields: dict[str, Any] = {"null_value": None}
    elif isinstance(value, bool):
        fields = {"bool_value": to_cel(value)}
    elif isinstance(value, (int, float)):
        fields = {"number_value": to_cel(value)}
    elif isinstance(value, list):
        fields = {"list_value": to_cel(value)}
    elif isinstance(value, dict):
        fields = {"struct_value": to_cel(value)}
    else:
        fields = {}
    fields["string_value"] = _celtypes().StringType(value_text(value))
    return fields


def run_selector(text: str, value: Any) -> Any:
    """``Expr.Select``: the selector applied to one JSON value, the result as JSON."""
    return from_cel(evaluate(compile_expr(text), select_activation(value)))
