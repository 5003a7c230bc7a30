"""The LLM script policy: every known bypass is refused, with the code of its class of fault.

The table lists each way out that was found (module-level code through `imports`, `os`
reached through allowed packages, files and the network through allowed functions, format
strings reaching `__globals__`); the property splices generated hostile fragments into a
body that passes and asserts the policy refuses every one, for a policy reason.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipespec.fill.llm_steps import answer_schema
from pipespec.fill.policy import MAX_BODY_BYTES, check_answer, check_script
from pipespec.fill.template import IMPORT_MENU, ScriptFrame, assemble
from tests.conftest import ROOT
from tests.fill.churn_answers import CLEAN, FEATURES

FRAME = ScriptFrame("clean", "d", ("data",), ("data",), "pipeline.yaml", "llm:test", "fill-v2")
NP = ["import numpy as np"]
CODE = re.compile(r"^PS5(0[7-9]|1[0-9]): ")

# (imports, body, the code the refusal must carry)
HOSTILE: list[tuple[list[str], str, str]] = [
    # code at module level through the imports list
    (["import os"], "return {}", "PS508"),
    (["import subprocess"], "return {}", "PS508"),
    (["import numpy as np; import os"], "return {}", "PS508"),
    (["import numpy as np\nos = __import__('os')"], "return {}", "PS508"),
    (["from pandas.io.common import os"], "return {}", "PS508"),
    (["from sklearn.datasets import fetch_openml"], "return {}", "PS508"),
    (["from scipy.io import loadmat"], "return {}", "PS508"),
    ([], "import socket\nreturn {}", "PS508"),
    ([], "from pandas.io.common import os\nreturn {}", "PS508"),
    # os and subprocess through attributes and submodules of allowed packages
    ([], "pd.io.common.os.system('id')\nreturn {}", "PS511"),
    ([], "x = pd.io.common.os\nreturn {}", "PS509"),
    ([], "x = pd.core.frame.np\nreturn {}", "PS509"),
    (NP, "x = np.lib.npyio\nreturn {}", "PS509"),
    (NP, "x = np\nreturn {}", "PS509"),
    # files and the network through allowed functions and methods
    ([], "x = pd.io.common.urlopen('http://evil')\nreturn {}", "PS511"),
    ([], "x = pd.read_csv('http://evil')\nreturn {}", "PS511"),
    (NP, "x = np.fromfile('/etc/passwd')\nreturn {}", "PS511"),
    (NP, "x = np.genfromtxt('/etc/passwd')\nreturn {}", "PS511"),
    (NP, "x = np.loadtxt('/etc/passwd')\nreturn {}", "PS511"),
    (NP, "x = np.load('/x.npy', allow_pickle=True)\nreturn {}", "PS511"),
    (NP, "x = np.memmap('/x')\nreturn {}", "PS511"),
    (NP, "np.savetxt('/tmp/x', [1])\nreturn {}", "PS511"),
    ([], "inputs['data'].to_html('/tmp/x')\nreturn {}", "PS511"),
    ([], "inputs['data'].to_csv('/tmp/x')\nreturn {}", "PS511"),
    ([], "inputs['data'].to_string(buf='/tmp/x')\nreturn {}", "PS511"),
    ([], "inputs['data'].values.tofile('/tmp/x')\nreturn {}", "PS511"),
    ([], "inputs['data'].values.dump('/tmp/x')\nreturn {}", "PS511"),
    ([], "inputs['data'].style.to_html()\nreturn {}", "PS511"),
    ([], "inputs['data'].plot().figure.savefig('/tmp/x')\nreturn {}", "PS511"),
    ([], "x = pd.DataFrame.to_csv\nreturn {}", "PS511"),
    ([], "inputs['data'].agg('to_csv', '/tmp/x')\nreturn {}", "PS511"),
    ([], "x = inputs['data'].query('a > 1')\nreturn {}", "PS511"),
    ([], "x = fetch_openml('mnist')\nreturn {}", "PS509"),
    ([], "x = loadmat('/x.mat')\nreturn {}", "PS509"),
    ([], "x = open('/etc/passwd')\nreturn {}", "PS509"),
    ([], "pathlib.Path('/x').write_text('y')\nreturn {}", "PS509"),
    ([], "_write(inputs['data'], '/tmp/x')\nreturn {}", "PS509"),
    # format strings that reach __globals__ (or any attribute)
    ([], "x = '{0.__globals__}'.format(transform)\nreturn {}", "PS510"),
    ([], "x = ('{0._' + '_globals_' + '_}').format(transform)\nreturn {}", "PS512"),
    ([], "t = '{0.f_globals}'\nx = t.format(transform)\nreturn {}", "PS512"),
    ([], "x = '{0.real}'.format(1)\nreturn {}", "PS512"),
    ([], "x = '{d[k]}'.format_map({'d': {'k': 1}})\nreturn {}", "PS512"),
    ([], "x = '{0:{1.x}}'.format(1, 2)\nreturn {}", "PS512"),
    ([], "x = str.format('{0.a}', inputs)\nreturn {}", "PS512"),
    ([], "x = f'{transform.__globals__}'\nreturn {}", "PS510"),
    ([], "x = '%(a)s' % inputs\nreturn {}", "PS512"),
    ([], "x = f'{1}%s' % inputs\nreturn {}", "PS512"),
    # dunder access in any form, and the ways to it
    ([], "x = inputs.__class__\nreturn {}", "PS510"),
    ([], "x = __builtins__\nreturn {}", "PS510"),
    ([], "x = inputs['__class__']\nreturn {}", "PS510"),
    ([], "x = dict(__x=1)\nreturn {}", "PS510"),
    ([], "x = b'__import__'\nreturn {}", "PS510"),
    ([], "x = getattr(pd, 'read_csv')\nreturn {}", "PS509"),
    ([], "x = vars()\nreturn {}", "PS509"),
    ([], "x = type(inputs)\nreturn {}", "PS509"),
    ([], "eval('1')\nreturn {}", "PS509"),
    ([], "exec('1')\nreturn {}", "PS509"),
    ([], "x = (y for y in []).gi_frame.f_globals\nreturn {}", "PS509"),
    ([], "x = inputs['data']._mgr\nreturn {}", "PS509"),
    ([], "class X:\n    pass\nreturn {}", "PS509"),
    ([], "global pd\nreturn {}", "PS509"),
    ([], "pd = 1\nreturn {}", "PS509"),
    # breaking out of the frame, and size
    ([], 'x = """\nreturn {}', "PS507"),
    ([], "x = 1", "PS507"),
    ([], "x = 1\n" * (MAX_BODY_BYTES // 6 + 1) + "return {}", "PS513"),
]


@pytest.mark.parametrize(("imports", "body", "code"), HOSTILE)
def test_every_known_bypass_is_refused_with_its_code(
    imports: list[str], body: str, code: str
) -> None:
    problems = check_answer(FRAME, imports, body)
    assert any(p.startswith(code + ": ") for p in problems), problems
    assert all(CODE.match(p) for p in problems), problems


def test_the_churn_answers_and_shipped_scripts_pass() -> None:
    features = ScriptFrame(
        "features", "d", ("data",), ("test", "train", "validation"), "p.yaml", "llm:t", "v"
    )
    assert check_answer(FRAME, CLEAN["imports"], CLEAN["body"]) == []
    assert check_answer(features, FEATURES["imports"], FEATURES["body"]) == []
    for path in sorted((ROOT / "examples" / "churn" / "scripts").glob("*.py")):
        assert check_script(path.read_text(encoding="utf-8")) == [], path.name


def test_a_written_script_is_rechecked_whole() -> None:
    script = assemble(FRAME, NP, "return {'data': inputs['data']}")
    assert check_script(script) == []
    assert any(p.startswith("PS508") for p in check_script("import os\n" + script))
    hostile = script.replace("return {'data'", "x = np.fromfile('/x')\n    return {'data'")
    assert any(p.startswith("PS511") for p in check_script(hostile))


def test_imports_are_a_menu_in_the_schema_and_in_assemble() -> None:
    schema = answer_schema([])
    assert schema["properties"]["imports"]["items"]["enum"] == list(IMPORT_MENU)
    assert schema["properties"]["body"]["maxLength"] <= MAX_BODY_BYTES
    with pytest.raises(ValueError, match="not on the menu"):
        assemble(FRAME, ["import os"], "return {}")


# --- the property: hostile fragments spliced into a body that passes -----------------------

DUNDERS = st.from_regex(r"\A__[a-z]{1,10}__\Z", fullmatch=True)
MODULES = st.sampled_from(
    [
        *("os", "subprocess", "socket", "sys", "shutil", "ctypes", "importlib", "builtins"),
        *("pickle", "urllib.request", "http.client", "pathlib", "io", "runpy", "multiprocessing"),
    ]
)
IO_NAMES = st.sampled_from(
    [
        *("to_csv", "to_html", "to_pickle", "to_parquet", "to_json", "to_excel", "to_sql"),
        *("to_latex", "to_markdown", "to_string", "to_xml", "to_feather", "to_hdf", "tofile"),
        *("read_csv", "read_pickle", "read_html", "read_sql", "fromfile", "genfromtxt", "loadtxt"),
        *("savetxt", "save", "savez", "load", "memmap", "urlopen", "fetch_openml", "open", "dump"),
    ]
)
RECEIVERS = st.sampled_from(["inputs['data']", "inputs['data'].values", "pd", "np", "frame"])
ATTRS = st.sampled_from(["real", "f_globals", "x", "gi_frame", "columns"])


@st.composite
def fragments(draw: st.DrawFn) -> tuple[list[str], str]:
    """(extra imports, one hostile statement)."""
    kind = draw(st.sampled_from(["dunder", "module", "io", "format"]))
    if kind == "dunder":
        name = draw(DUNDERS)
        form = draw(st.sampled_from(["x = frame.{}", "x = {}", "x = frame[{!r}]", "f({}=1)"]))
        return [], form.format(name)
    if kind == "module":
        module = draw(MODULES)
        form = draw(
            st.sampled_from(
                ["import {}", "from {} import x", "x = pd.io.common.{}", "x = {}.system('id')"]
            )
        )
        line = form.format(module)
        if draw(st.booleans()):
            return [f"import {module}"], "x = 1"
        return [], line
    if kind == "io":
        name, receiver = draw(IO_NAMES), draw(RECEIVERS)
        form = draw(st.sampled_from(["{r}.{n}('/tmp/x')", "x = {r}.{n}", "frame.agg({n!r})"]))
        return NP, form.format(r=receiver, n=name)
    template = "{0." + draw(ATTRS) + "}" if draw(st.booleans()) else "{0[" + draw(ATTRS) + "]}"
    form = draw(
        st.sampled_from(
            [
                *("x = {t!r}.format(frame)", "x = {t!r}.format_map(frame)"),
                *(
                    "t = {t!r}\nx = t.format(1)",
                    "x = '%s' % frame",
                    "x = ({t!r} + '').format(frame)",
                ),
            ]
        )
    )
    return [], form.format(t=template)


WRAPS = st.sampled_from(
    [
        "{}",
        "if len(inputs) > 99:\n    {}",
        "def helper():\n    {}\n    return 1",
        "try:\n    {}\nexcept Exception:\n    pass",
        "for _ in range(0):\n    {}",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(fragment=fragments(), wrap=WRAPS, at=st.integers(min_value=0, max_value=20))
def test_hostile_fragments_spliced_into_a_good_body_are_refused(
    fragment: tuple[list[str], str], wrap: str, at: int
) -> None:
    imports, statement = fragment
    lines = CLEAN["body"].splitlines()
    # Splice at a statement boundary of the body's top level (the next line is not indented).
    boundaries = [i for i, line in enumerate(lines) if not line.startswith((" ", "else"))]
    where = boundaries[at % len(boundaries)]
    spliced: list[str] = []
    for line in wrap.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        parts = statement.split("\n") if "{}" in line else [line.strip()]
        spliced += [indent + part for part in parts]
    lines[where:where] = spliced
    body = "\n".join(lines) + "\n"
    problems = check_answer(FRAME, sorted({*CLEAN["imports"], *imports}), body)
    policy = [p for p in problems if not p.startswith("PS507")]
    assert policy, (body, problems)
    assert all(CODE.match(p) for p in problems), problems


# --- what small models send: answered with a concrete instruction -------------------------

FRAME2 = ScriptFrame("split", "d", ("data",), ("test", "train"), "p.yaml", "llm:test", "fill-v2")


@pytest.mark.parametrize(
    "body",
    [
        "def transform(inputs):\n    frame = inputs['data']\n"
        "    return {'train': frame, 'test': frame}",
        "def transform(inputs):\n    '''Split.'''\n    return {'train': inputs['data']}\n"
        "return transform(inputs)",
        "    def run(inputs):\n        return {'train': inputs['data']}\n",
    ],
)
def test_a_whole_function_for_an_answer_is_sent_back_as_such(body: str) -> None:
    (problem,) = check_answer(FRAME2, [], body)
    assert problem.startswith("PS507: the answer is a whole function (`def ")
    assert "without the def line" in problem


def test_a_return_inside_a_nested_function_does_not_count() -> None:
    body = (
        "def helper(frame):\n    return frame.dropna()\n"
        "cleaned = helper(inputs['data'])\n"
        "outputs = {'train': cleaned, 'test': cleaned}\n"
    )
    (problem,) = check_answer(FRAME2, [], body)
    assert problem == (
        "PS507: transform() never returns its outputs (a `return` inside the nested function "
        '\'helper\' does not count): end the body with `return {"test": ..., "train": ...}`'
    )
    assert check_answer(FRAME2, [], body + "return outputs\n") == []
    assert check_answer(FRAME2, [], body + "return\n")[0].startswith("PS507: transform() never")


def test_a_misspelt_local_is_named_in_the_reason() -> None:
    """What the real model sent three times over (a newline eaten into a name)."""
    body = (
        'frame = inputs["data"]\neu_orders = frame[frame["region"] == "eu"].copy()\n'
        'return {"data": neu_orders}'
    )
    assert check_answer(FRAME, [], body) == [
        "PS509: transform() may not use 'neu_orders': not a local, an import or a safe "
        "builtin (did you mean 'eu_orders'?; write that line as: return {'data': eu_orders})"
    ]


def test_a_seeded_numpy_shuffle_is_allowed() -> None:
    body = (
        "np.random.seed(0)\norder = np.random.permutation(len(inputs['data']))\n"
        "return {'data': inputs['data'].iloc[order]}"
    )
    assert check_answer(FRAME, NP, body) == []


def test_a_returned_dict_must_be_keyed_by_the_outputs() -> None:
    """The real model keyed its one output by the step's name, three times over."""
    body = (
        'frame = inputs["data"]\neu_orders = frame[frame["region"] == "eu"].copy()\n'
        'return {"eu_orders": eu_orders}'
    )
    assert check_answer(FRAME, [], body) == [
        "PS507: transform() returns the keys 'eu_orders', but the outputs are named 'data': "
        'key the returned dict by exactly those names: return {"data": eu_orders}'
    ]
    (two,) = check_answer(FRAME2, [], "return {'train': inputs['data']}")
    assert "returns the keys 'train', but the outputs are named 'test', 'train'" in two
    assert check_answer(FRAME2, [], "out = {}\nreturn out") == []  # not a literal: the run checks
