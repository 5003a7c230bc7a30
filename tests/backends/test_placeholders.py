"""The shared placeholder walk: each kind of ``${...}`` reaches the resolver method for
it, with the IR objects it needs, in order; a backend supplies only the resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipespec import ir
from pipespec.backends.placeholders import Resolver, named_outputs, walk
from tests.backends.spec_ir import ir_of

SPEC = """\
pipespec: 1
name: walk
params:
  lr: {type: float, default: 0.1}
steps:
  a:
    kind: container
    image: busybox
    command: [a, "--data=${outputs.data}", "${outputs.n}"]
    outputs: {data: dataset, n: int}
  b:
    kind: container
    image: busybox
    command:
      - b
      - "lr=${params.lr} via=${inputs.rate}"
      - "${inputs.d}"
      - "${inputs.n}"
      - "${inputs.raw}"
      - "${item}"
    env: {OUT: "${outputs.model}"}
    inputs: {d: a.data, n: a.n, rate: params.lr, raw: "s3://bucket/raw.csv"}
    outputs: {model: model}
    foreach: [x, y]
"""


class Recorder(Resolver[str]):
    """Names each call and what it received, so the dispatch is visible."""

    def text(self, step: ir.Step, text: str) -> str:
        return f"<{text}>"

    def param(self, step: ir.Step, name: str) -> str:
        return f"param({name})"

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> str:
        return f"literal({inp.name}={source.uri})"

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        return f"artifact({inp.name}={source.step}.{source.output}:{inp.type})"

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        return f"parameter({inp.name}={source.step}.{source.output}:{inp.type})"

    def output(self, step: ir.Step, output: ir.Output) -> str:
        return f"output({step.id}.{output.name}:{output.type})"

    def item(self, step: ir.Step) -> str:
        return f"item({step.id})"


@pytest.fixture
def pipeline(tmp_path: Path) -> ir.Pipeline:
    return ir_of(tmp_path, SPEC)


def test_each_placeholder_reaches_its_resolver_method(pipeline: ir.Pipeline) -> None:
    b = pipeline.step("b")
    got = ["".join(walk(b, arg, Recorder())) for arg in b.command]
    assert got == [
        "<b>",
        # an input fed by a param resolves as the param itself unless overridden
        "<lr=>param(lr)< via=>param(lr)",
        "artifact(d=a.data:dataset)",
        "parameter(n=a.n:int)",
        "literal(raw=s3://bucket/raw.csv)",
        "item(b)",
    ]
    (env,) = b.env
    assert walk(b, env[1], Recorder()) == ["output(b.model:model)"]


def test_input_param_can_be_spelled_apart_from_a_param(pipeline: ir.Pipeline) -> None:
    class InputsApart(Recorder):
        def input_param(self, step: ir.Step, inp: ir.Input, source: ir.ParamRef) -> str:
            return f"input({inp.name}<-{source.name})"

    b = pipeline.step("b")
    assert walk(b, b.command[1], InputsApart()) == [
        "<lr=>",
        "param(lr)",
        "< via=>",
        "input(rate<-lr)",
    ]


def test_the_walk_builds_whatever_the_target_needs(pipeline: ir.Pipeline) -> None:
    """T is the target's own value: here a dict per segment, as a data target would build."""

    class AsData(Resolver[dict[str, str]]):
        def text(self, step: ir.Step, text: str) -> dict[str, str]:
            return {"text": text}

        def param(self, step: ir.Step, name: str) -> dict[str, str]:
            return {"componentInputParameter": name}

        def input_literal(
            self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri
        ) -> dict[str, str]:
            return {"uri": source.uri}

        def input_artifact(
            self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef
        ) -> dict[str, str]:
            return {"artifact": source.output, "producer": source.step}

        def input_parameter(
            self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef
        ) -> dict[str, str]:
            return {"parameter": source.output, "producer": source.step}

        def output(self, step: ir.Step, output: ir.Output) -> dict[str, str]:
            return {"output": output.name}

        def item(self, step: ir.Step) -> dict[str, str]:
            return {"item": step.id}

    a = pipeline.step("a")
    assert walk(a, a.command[1], AsData()) == [{"text": "--data="}, {"output": "data"}]


def test_a_resolver_must_spell_every_kind() -> None:
    class Partial(Resolver[str]):
        def text(self, step: ir.Step, text: str) -> str:
            return text

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]


def test_named_outputs_are_the_outputs_a_command_or_env_mentions(pipeline: ir.Pipeline) -> None:
    a, b = pipeline.step("a"), pipeline.step("b")
    assert named_outputs(a.command) == {"data", "n"}
    assert named_outputs(b.command) == set()
    assert named_outputs(value for _, value in b.env) == {"model"}
