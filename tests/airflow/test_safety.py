"""No spec string can change the structure of a generated DAG file.

A spec full of hostile strings and the same spec with benign strings must render to Python
files whose ASTs are identical once every constant is replaced by a placeholder; each
hostile string must survive as a constant (read back with ast, not found by grepping).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.api import analyze_file
from pipespec.backends.airflow.jinja_text import escape_literal, keep_final_newline
from pipespec.pysafe import UnsafeValue, comment, py_ident, py_literal
from tests.airflow.helpers import VARIANTS, render

HOSTILE = [
    "'; import os; os.system('id') #",
    '"; __import__("os").system("id"); "',
    '""" + str(1) + """',
    "''' ''' '''",
    "back\\slash\\",
    "new\nline\r\nand\ttab",
    # A template Airflow would evaluate: EVALUATED shows up wherever that happens.
    "{{ ds }} {{ 'EVAL' ~ 'UATED' }} {% if true %}x{% endif %} {# c #}",
    "${HOME} $(rm -rf /) `id` $$ $${x}",
    "\u2028\u2029\x85 line separators",
    "config.json",
    "{",
    ")]}, 'x': 1}  # close everything",
]


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar for any text (escapes as YAML 1.2 defines them)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def spec_text(strings: list[str]) -> str:
    s = [yaml_quote(x) for x in strings]
    return f"""
pipespec: 1
name: hostile
description: {s[0]}
params:
  text: {{type: string, default: {s[1]}, description: {s[2]}}}
  items: {{type: list, default: [{s[3]}, {s[4]}]}}
defaults:
  image: busybox
  env: {{A: {s[5]}}}
secrets:
  db: {{kubernetes: {{secret: {s[6]}, key: {s[7]}}}, airflow: {{conn_id: {s[6]}}}}}
steps:
  one:
    kind: container
    description: {s[9]}
    command: [{s[10]}, {s[11]}, {s[0]}, "${{outputs.out}}", "${{params.text}}"]
    env: {{B: {s[1]}, C: {s[2]}}}
    secrets: {{DSN: db}}
    outputs: {{out: dataset}}
  two:
    kind: container
    foreach: [{s[3]}, {s[4]}, {s[5]}]
    command: [{s[6]}, "${{item}}", "${{inputs.data}}", {s[7]}]
    env: {{D: {s[8]}}}
    inputs: {{data: one.out}}
  three:
    kind: container
    foreach: params.items
    command: [{s[9]}, "pre-${{item}}-post", {s[10]}]
    after: [two]
targets:
  airflow: {{namespace: {s[11]}, artifact_root: {s[0]}, tags: [{s[1]}], kubernetes_conn_id: {s[6]}}}
"""


def _normalise(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = "<const>"
    return ast.dump(tree, include_attributes=False)


def _render_spec(tmp_path: Path, strings: list[str], version: str, operator: str) -> str:
    spec = tmp_path / f"spec-{abs(hash(tuple(strings)))}.yaml"
    spec.write_text(spec_text(strings))
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    return render(analysis.pipeline, version, operator)


@pytest.mark.parametrize(("version", "operator"), VARIANTS)
def test_hostile_strings_do_not_change_the_code_structure(
    tmp_path: Path, version: str, operator: str
) -> None:
    benign = [f"benign{i}" for i in range(len(HOSTILE))]
    hostile_py = _render_spec(tmp_path, HOSTILE, version, operator)
    benign_py = _render_spec(tmp_path, benign, version, operator)
    assert _normalise(ast.parse(hostile_py)) == _normalise(ast.parse(benign_py))
    constants = [n.value for n in ast.walk(ast.parse(hostile_py)) if isinstance(n, ast.Constant)]
    text_constants = " ".join(c for c in constants if isinstance(c, str))
    # The pieces that need no Jinja escaping reach the file as they are.
    for needle in ("'; import os; os.system('id') #", "$(rm -rf /) `id`", "new\nline"):
        assert needle in text_constants


def test_literal_filter_round_trips_and_refuses_what_it_cannot_prove() -> None:
    for value in [*HOSTILE, 0, -1.5, True, None, [1, "a"], {"k": ["v", {"n": 2}]}]:
        assert ast.literal_eval(py_literal(value)) == value
    for bad in (float("nan"), object(), {1: "x"}):
        with pytest.raises(UnsafeValue):
            py_literal(bad)


@pytest.mark.parametrize("name", ["os.system", "a b", "1x", "class", "x;y", "", "é"])
def test_identifier_filter_refuses_non_identifiers(name: str) -> None:
    with pytest.raises(UnsafeValue):
        py_ident(name)


def test_comments_stay_on_one_line() -> None:
    assert "\n" not in comment("a\nimport os\r\u2028b")
    assert comment("plain") == "plain"


def test_jinja_escaping_leaves_no_delimiter() -> None:
    for text in [*HOSTILE, "{{{", "{%", "{#", "a{", "{{ '{' }}", "x\r\n", "end\n"]:
        escaped = keep_final_newline(escape_literal(text))
        stripped = escaped
        for expression in ("{{ '{' }}", "{{ '\\r' }}", "{{ '\\n' }}"):
            stripped = stripped.replace(expression, "")
        assert "{{" not in stripped and "{%" not in stripped and "{#" not in stripped
        assert not stripped.endswith(("{", "\n")) and "\r" not in stripped


# --- properties -------------------------------------------------------------------------


_jinja_chars = st.sampled_from([*"{}%#'\"\\\r\n\t $x", "{{", "{%", "{#", "}}", "\u2028"])
jinja_text = st.lists(st.one_of(_jinja_chars, st.text(max_size=3)), max_size=20).map("".join)


def _airflow_like_env() -> object:
    # What Airflow's DAG.get_template_env() builds: sandboxed, strict, Jinja's newline rules.
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, cache_size=0)


@settings(max_examples=500, deadline=None)
@given(jinja_text, jinja_text)
def test_escaped_text_renders_back_verbatim_around_a_placeholder(before: str, after: str) -> None:
    env = _airflow_like_env()
    template = keep_final_newline(escape_literal(before) + "{{ x }}" + escape_literal(after))
    assert env.from_string(template).render(x="V") == before + "V" + after  # type: ignore[attr-defined]
    alone = keep_final_newline(escape_literal(before))
    assert env.from_string(alone).render() == before  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None)
# NUL is refused at validation (PS214, tests/cases/bad/text.yaml): no orchestrator carries it.
@given(
    st.lists(
        jinja_text.filter(lambda s: s.strip() != "" and "\x00" not in s), min_size=12, max_size=12
    )
)
def test_any_strings_leave_the_dag_structure_alone(strings: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        benign = [f"benign{i}" for i in range(12)]
        a = _render_spec(Path(tmp), strings, "3", "kubernetes")
        b = _render_spec(Path(tmp), benign, "3", "kubernetes")
    assert _normalise(ast.parse(a)) == _normalise(ast.parse(b))
