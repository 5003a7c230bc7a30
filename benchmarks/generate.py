"""Synthetic N-step pipespec specs for the benchmarks (deterministic: same N, same bytes).

A pipeline is built from segments of up to 50 ``container`` steps. Each segment is a
realistic chain with fan-in:

* ``ingest`` (position 0): reads a shard for ``${params.run_date}``; no inputs;
* a chain of ``clean`` / ``features`` / ``train`` / ``predict`` steps, each reading the
  previous step's ``data`` (``${inputs.data}``) and writing its own (``${outputs.data}``);
* every 5th position a ``join`` (fan-in of two data inputs; the first join of segment ``s``
  also reads an early step of segment ``s - 1``, so segments are linked);
* at 2/5 of the segment a ``score`` step writing a ``metrics`` output; at 3/5 a ``publish``
  step with ``when: "score_X.metrics.auc >= params.min_auc"``; at 4/5 a ``shard`` step with
  ``foreach: [eu, us, apac]`` using ``${item}``; two steps later a step with
  ``after: [shard_X]``; every 10th position (offset 7) an ``after:`` on the step three back;
* resources vary (every 7th step ``{cpu: 2, memory: 8Gi}``, the middle step of a segment a
  GPU step with ``accelerator: nvidia-t4``, its own image and a 3h timeout); every 4th step
  sets ``env`` (one value with ``${params.run_date}``).

So every ~50 steps there is one ``when:`` and one ``foreach``, and every spec compiles as
written (no ``fill`` needed).

The **ML variant** (``ml=True``, ``--ml``, files ``bench-ml-n<N>.yaml``; the Vertex
benchmark's specs) is the same pipeline with a ``vertex`` target, where the ``train`` chain
steps at every 8th position (offset 2) are ``kind: train`` steps (the same command without
``--run-date``, plus a ``model`` output; Vertex runs them as custom jobs), and the last step
of each segment is a ``kind: deploy`` of the segment's last model to its own endpoint
(``serving_image``, ``endpoint:``; Vertex: ModelUpload + EndpointCreate + ModelDeploy). The
plain specs are unchanged by it.
:func:`make_pipeline` returns the neutral model that ``baselines.py`` also renders as a
hand-written DAG and a dag-factory config.

Usage: ``python -m benchmarks.generate [--n 10 100 1000] [--out DIR]`` writes
``DIR/bench-n<N>.yaml``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEGMENT = 50
DEFAULT_SIZES = (10, 100, 1000)

IMAGE = "ghcr.io/acme/bench:1.4.2"
GPU_IMAGE = "ghcr.io/acme/bench-gpu:1.4.2"
NAMESPACE = "ml-bench"
ARTIFACT_ROOT = "s3://acme-bench/artifacts"
SCHEDULE = "@daily"
REGIONS = ("eu", "us", "apac")
# name -> (pipespec type, default)
PARAMS: dict[str, tuple[str, Any]] = {
    "run_date": ("string", "2024-01-01"),
    "min_auc": ("float", 0.8),
}
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY = "5m"
DEFAULT_TIMEOUT = "1h"
GPU_TIMEOUT = "3h"
DEFAULT_CPU = 1
DEFAULT_MEMORY = "2Gi"
DEFAULT_ENV = {"LOG_LEVEL": "info"}
CHAIN_ROLES = ("clean", "features", "train", "predict")
# The ML variant (see the module docstring).
TRAIN_EVERY, TRAIN_AT = 8, 2
SERVING_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"
ENDPOINT_MACHINE = "small"
ENDPOINT_REPLICAS = (1, 2)
VERTEX = {
    "project": "acme-bench",
    "location": "europe-west4",
    "pipeline_root": "gs://acme-bench/pipelines",
}


@dataclass(frozen=True)
class Condition:
    """``<step>.<output>.<key> >= params.<param>``."""

    step: str
    output: str
    key: str
    param: str

    def text(self) -> str:
        return f"{self.step}.{self.output}.{self.key} >= params.{self.param}"


@dataclass(frozen=True)
class BenchStep:
    id: str
    role: str
    command: tuple[str, ...]
    inputs: tuple[tuple[str, str, str], ...] = ()  # (input name, step, output)
    outputs: tuple[tuple[str, str], ...] = ()  # (output name, type)
    env: tuple[tuple[str, str], ...] = ()
    cpu: int | None = None
    memory: str | None = None
    gpu: int | None = None
    accelerator: str | None = None
    image: str | None = None
    timeout: str | None = None
    after: tuple[str, ...] = ()
    when: Condition | None = None
    foreach: tuple[str, ...] | None = None
    kind: str = "container"  # "train" and "deploy" in the ML variant


@dataclass(frozen=True)
class BenchPipeline:
    name: str
    steps: tuple[BenchStep, ...]


def argv(command: str, **values: str) -> tuple[str, ...]:
    """``command`` split on spaces, with ``<name>`` replaced by ``values[name]``."""
    for name, value in values.items():
        command = command.replace(f"<{name}>", value)
    return tuple(command.split())


def pipeline_name(n: int, ml: bool = False) -> str:
    return f"bench-ml-n{n}" if ml else f"bench-n{n}"


def _train_step(step: BenchStep) -> BenchStep:
    """A chain step as a ``kind: train`` step: the same command without the run date (a
    custom job's spec is fixed when the pipeline is compiled: a param read there needs
    pipespec's values helper on Vertex, which the kfp+GCPC program has no counterpart for),
    also writing a model."""
    kept = step.command[: step.command.index("--run-date")]
    command = (*kept, "--model", "${outputs.model}")
    outputs = (*step.outputs, ("model", "model"))
    return _replace(step, {"kind": "train", "command": command, "outputs": outputs}, step.after)


def _deploy_step(sid: str, model: str) -> BenchStep:
    return BenchStep(
        id=sid,
        role="deploy",
        kind="deploy",
        command=argv("python -m bench.deploy --model ${inputs.model} --endpoint <name>",
                     name="bench-" + sid.rsplit("_", maxsplit=1)[-1]),
        inputs=(("model", model, "model"),),
    )  # fmt: skip


def make_pipeline(n: int, ml: bool = False) -> BenchPipeline:
    """The N-step benchmark pipeline (see the module docstring for its shape)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    width = max(3, len(str(n - 1)))
    seg_len = min(SEGMENT, n)
    features = seg_len >= 10  # score / when / foreach need room in the segment
    score_at, when_at, foreach_at = seg_len * 2 // 5, seg_len * 3 // 5, seg_len * 4 // 5
    gpu_at = seg_len // 2 + 2  # a chain position (seg_len // 2 is a join)
    steps: list[BenchStep] = []
    early: dict[int, str] = {}  # segment -> an early data step, read by the next segment
    last_data = prev_data = score = shard = model = ""
    for i in range(n):
        seg, pos = divmod(i, SEGMENT)

        def sid(role: str, i: int = i) -> str:
            return f"{role}_{i:0{width}d}"

        extra: dict[str, Any] = {}
        if pos % 7 == 3:
            extra.update(cpu=2, memory="8Gi")
        if pos % 4 == 1:
            extra["env"] = (("RUN_DATE", "${params.run_date}"), ("STAGE", f"s{seg}-p{pos}"))
        after: list[str] = []
        if pos % 10 == 7 and pos >= 3:
            after.append(steps[i - 3].id)
        if features and pos == foreach_at + 2 and shard:
            after.append(shard)

        if ml and pos == seg_len - 1 and model:
            step = _deploy_step(sid("deploy"), model)
        elif pos == 0:
            step = BenchStep(
                id=sid("ingest"),
                role="ingest",
                command=argv(
                    "python -m bench.ingest --date ${params.run_date} --shard <seg>"
                    " --out ${outputs.data}",
                    seg=str(seg),
                ),
                outputs=(("data", "dataset"),),
                env=(("RUN_DATE", "${params.run_date}"),),
            )
        elif features and pos == score_at:
            step = BenchStep(
                id=sid("score"),
                role="score",
                command=argv(
                    "python -m bench.score --in ${inputs.data} --metrics ${outputs.metrics}"
                ),
                inputs=(("data", last_data, "data"),),
                outputs=(("metrics", "metrics"),),
            )
            score = step.id
        elif features and pos == when_at:
            step = BenchStep(
                id=sid("publish"),
                role="publish",
                command=argv(
                    "python -m bench.publish --in ${inputs.data} --table warehouse.bench_<seg>",
                    seg=str(seg),
                ),
                inputs=(("data", last_data, "data"),),
                when=Condition(score, "metrics", "auc", "min_auc"),
            )
        elif features and pos == foreach_at:
            step = BenchStep(
                id=sid("shard"),
                role="shard",
                command=argv(
                    "python -m bench.shard --region ${item} --in ${inputs.data}"
                    " --out ${outputs.data}"
                ),
                inputs=(("data", last_data, "data"),),
                outputs=(("data", "dataset"),),
                foreach=REGIONS,
            )
            shard = step.id
        elif pos % 5 == 0:
            other = early.get(seg - 1) if pos == 5 and seg > 0 else prev_data
            step = BenchStep(
                id=sid("join"),
                role="join",
                command=argv(
                    "python -m bench.join --left ${inputs.left} --right ${inputs.right}"
                    " --out ${outputs.data}"
                ),
                inputs=(("left", last_data, "data"), ("right", other or prev_data, "data")),
                outputs=(("data", "dataset"),),
            )
        else:
            role = CHAIN_ROLES[pos % len(CHAIN_ROLES)]
            step = BenchStep(
                id=sid(role),
                role=role,
                command=argv(
                    "python -m bench.<role> --in ${inputs.data} --out ${outputs.data}"
                    " --run-date ${params.run_date}",
                    role=role,
                ),
                inputs=(("data", last_data, "data"),),
                outputs=(("data", "dataset"),),
            )
            if pos == gpu_at:
                extra.update(gpu=1, accelerator="nvidia-t4", image=GPU_IMAGE, timeout=GPU_TIMEOUT)
            elif ml and pos % TRAIN_EVERY == TRAIN_AT:
                step = _train_step(_replace(step, {}, ()))
                model = step.id

        direct = {s for _, s, _ in step.inputs}
        kept = tuple(dict.fromkeys(a for a in after if a not in direct and a != step.id))
        step = _replace(step, extra, kept)
        steps.append(step)
        if ("data", "dataset") in step.outputs and step.foreach is None:
            prev_data, last_data = last_data or step.id, step.id
            if pos == 2 or (pos == 0 and seg_len < 3):
                early[seg] = step.id
    return BenchPipeline(pipeline_name(n, ml), tuple(steps))


def _replace(step: BenchStep, extra: dict[str, Any], after: tuple[str, ...]) -> BenchStep:
    fields = dict(step.__dict__)
    if "env" in extra:
        merged = dict(step.env)
        merged.update(dict(extra.pop("env")))
        fields["env"] = tuple(sorted(merged.items()))
    fields.update(extra)
    fields["after"] = after
    return BenchStep(**fields)


# ---------------------------------------------------------------------------------------
# A tiny YAML emitter (block mappings, flow collections of scalars, JSON-quoted strings):
# its output reads the same under YAML 1.2 (pipespec) and PyYAML's YAML 1.1 (dag-factory).

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")  # no ':', '#', '$', quotes, braces
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _plain_ok(text: str) -> bool:
    return bool(_PLAIN.match(text)) and text.lower() not in _YAML11_WORDS


def yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value if _plain_ok(value) else json.dumps(value)
    raise TypeError(f"not a YAML scalar: {value!r}")


def yaml_key(key: str) -> str:
    if _plain_ok(key):
        return key
    return json.dumps(key)


def _is_flow(value: Any) -> bool:
    """Collections of scalars (or of lists of scalars) are written on one line."""
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) for v in value.values())
    if isinstance(value, list):
        return all(
            not isinstance(v, (dict, list)) or (isinstance(v, list) and _is_flow(v)) for v in value
        )
    return True


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return yaml_scalar(value)


def to_yaml(data: dict[str, Any], indent: int = 0) -> str:
    """Block-style YAML for a mapping; nested dicts in block style unless all-scalar."""
    lines: list[str] = []
    pad = " " * indent
    for key, value in data.items():
        if isinstance(value, dict) and value and not _is_flow(value):
            lines.append(f"{pad}{yaml_key(key)}:")
            lines.append(to_yaml(value, indent + 2).rstrip("\n"))
        elif isinstance(value, list) and value and not _is_flow(value):
            lines.append(f"{pad}{yaml_key(key)}:")
            for item in value:
                if isinstance(item, dict):
                    body = to_yaml(item, indent + 4).rstrip("\n")
                    lines.append(f"{pad}  - {body.lstrip()}")
                else:
                    lines.append(f"{pad}  - {_flow(item)}")
        else:
            lines.append(f"{pad}{yaml_key(key)}: {_flow(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------


def spec_data(pipeline: BenchPipeline) -> dict[str, Any]:
    """The pipespec spec as plain data (authoring order kept)."""
    steps: dict[str, Any] = {}
    for step in pipeline.steps:
        body: dict[str, Any] = {"kind": step.kind}
        if step.image is not None:
            body["image"] = step.image
        if step.foreach is not None:
            body["foreach"] = list(step.foreach)
        if step.when is not None:
            body["when"] = step.when.text()
        body["command"] = list(step.command)
        if step.inputs:
            body["inputs"] = {name: f"{src}.{out}" for name, src, out in step.inputs}
        if step.outputs:
            body["outputs"] = dict(step.outputs)
        if step.env:
            body["env"] = dict(step.env)
        resources: dict[str, Any] = {}
        for key in ("cpu", "memory", "gpu", "accelerator"):
            value = getattr(step, key)
            if value is not None:
                resources[key] = value
        if resources:
            body["resources"] = resources
        if step.timeout is not None:
            body["timeout"] = step.timeout
        if step.after:
            body["after"] = list(step.after)
        if step.kind == "deploy":
            low, high = ENDPOINT_REPLICAS
            body["serving_image"] = SERVING_IMAGE
            body["endpoint"] = {"name": endpoint_name(step), "instance_type": ENDPOINT_MACHINE,
                                "min_replicas": low, "max_replicas": high}  # fmt: skip
        steps[step.id] = body
    targets: dict[str, Any] = {
        "airflow": {
            "version": "3",
            "operator": "kubernetes",
            "namespace": NAMESPACE,
            "artifact_root": ARTIFACT_ROOT,
        }
    }
    if any(step.kind != "container" for step in pipeline.steps):
        targets = {"vertex": dict(VERTEX)}
    return {
        "pipespec": 1,
        "name": pipeline.name,
        "description": description(pipeline),
        "schedule": SCHEDULE,
        "params": {name: {"type": t, "default": d} for name, (t, d) in PARAMS.items()},
        "defaults": {
            "image": IMAGE,
            "retries": DEFAULT_RETRIES,
            "retry_delay": DEFAULT_RETRY_DELAY,
            "timeout": DEFAULT_TIMEOUT,
            "resources": {"cpu": DEFAULT_CPU, "memory": DEFAULT_MEMORY},
            "env": dict(DEFAULT_ENV),
        },
        "steps": steps,
        "targets": targets,
    }


def description(pipeline: BenchPipeline) -> str:
    kinds = [s.kind for s in pipeline.steps]
    if all(k == "container" for k in kinds):
        what = f"{len(kinds)} container steps"
    else:
        what = ", ".join(f"{kinds.count(k)} {k}" for k in ("container", "train", "deploy"))
        what = f"{len(kinds)} steps ({what})"
    return f"Synthetic ML pipeline with {what} (pipespec benchmark)"


def endpoint_name(step: BenchStep) -> str:
    """The deploy step's endpoint, named after its position (as its command says)."""
    return step.command[-1]


def spec_yaml(pipeline: BenchPipeline) -> str:
    steps = description(pipeline).split(" with ", 1)[1].split(" (pipespec")[0]
    header = f"# Benchmark spec: {steps}, generated by benchmarks/generate.py; do not edit.\n"
    return header + to_yaml(spec_data(pipeline))


def write_spec(n: int, out_dir: Path, ml: bool = False) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{pipeline_name(n, ml)}.yaml"
    path.write_text(spec_yaml(make_pipeline(n, ml)), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/specs"))
    parser.add_argument("--ml", action="store_true", help="the ML variant (train, deploy)")
    args = parser.parse_args(argv)
    for n in args.n:
        print(write_spec(n, args.out, args.ml))
    return 0


if __name__ == "__main__":
    sys.exit(main())
