"""A tune step SageMaker's tuning job cannot run, emulated as Kubeflow runs tuning: trials
as processing steps, then a step that picks the best.

A tuning job's training job definition has no container entrypoint, so a tune step with
its own command (or a catalog script without a SageMaker framework image) cannot be one.
Instead:

* ``<id>-trial-<i>``: ``max_trials`` processing steps running the step's command, each with
  one trial's values where it wrote ``${hyperparameters.NAME}`` (the standard script: as
  ``--name=value`` arguments). The values are drawn when compiling by the shared seeded
  sampler (``backends/trials.py``, seeded by the pipeline and step names), so they are the
  ones Airflow and Kubeflow draw at run time. A trial waits for the one ``parallel_trials``
  before it (SageMaker has no bound on a pipeline's parallel steps). Each trial writes its
  outputs under the step's own folder of the run, ``<id>/trials/<i>/<output>``.
* ``<id>``: ``SELECT_PROGRAM`` reads every trial's metrics, picks the best by the
  objective and copies its outputs (and writes its values as ``best_hyperparameters``):
  the step's outputs, as a processing step's (model unpacked, values as property files).

A failed trial fails the run (a pipeline stops at a failed step), unlike a tuning job,
which carries on with the other trials. A tune whose command takes no trial values runs
once, as one trial with the fixed hyperparameters as its values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from functools import cache
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.processing import output_uri, processing_step
from pipespec.backends.sagemaker.spot import uses_spot
from pipespec.backends.sagemaker.training import machine
from pipespec.backends.sagemaker.tune_best import entry_name, select_step
from pipespec.backends.trials import SAMPLE_TRIALS
from pipespec.ir.features import runs_own_trials, runs_standard_tuning

VALUES_OUTPUT = "best_hyperparameters"


@cache
def _sampler() -> Any:
    """The shared sampler, pipespec's own constant code (no spec text in it)."""
    namespace: dict[str, Any] = {}
    exec(compile(SAMPLE_TRIALS, "pipespec/backends/trials.py", "exec"), namespace)
    return namespace["_sample_trials"]


def sample_trials(pipeline: str, step: ir.Step) -> list[dict[str, Any]]:
    """The trials Airflow's ``<step>.trials`` and Kubeflow's ``<step>-trials`` draw."""
    details = step.details
    assert isinstance(details, ir.TuneDetails)
    seed = int(hashlib.sha256(f"{pipeline}/{step.id}".encode()).hexdigest()[:8], 16)
    space = ir.thaw(details.search_space or ir.FrozenMap())
    return list(_sampler()(space, int(details.max_trials or 1), seed))


def value_text(value: Any) -> str:
    """A trial's value in a command (as Airflow and Kubeflow write it)."""
    return value if isinstance(value, str) else json.dumps(value)


def trial_step(step: ir.Step, index: int, values: dict[str, Any], standard: bool) -> ir.Step:
    """The step as one trial: its values in place of ``${hyperparameters.NAME}``."""

    def fill(value: tuple[ir.Segment, ...]) -> tuple[ir.Segment, ...]:
        return tuple(
            ir.Text(value_text(values[str(seg.name)]))
            if isinstance(seg, ir.Placeholder) and seg.root == "hyperparameters"
            else seg
            for seg in value
        )

    args = tuple(fill(a) for a in step.args)
    if standard:  # the standard script takes each value as `--name=value`
        args += tuple((ir.Text(f"--{n}={value_text(values[n])}"),) for n in sorted(values))
    return replace(
        step,
        id=f"{step.id}-trial-{index}",
        description=None,
        command=tuple(fill(a) for a in step.command),
        args=args,
        env=tuple((name, fill(value)) for name, value in step.env),
        outputs=tuple(o for o in step.outputs if o.name != VALUES_OUTPUT),
    )


def _relocate(ctx: Context, step: ir.Step, index: int, entry: dict[str, Any]) -> None:
    """A trial writes under the step's folder (``<id>/trials/<i>/<output>``), which the
    pick reads as one input (a processing job takes at most 10)."""
    config = entry["Arguments"].get("ProcessingOutputConfig") or {}
    for out in config.get("Outputs", []):
        out["S3Output"]["S3Uri"] = ctx.run_uri(f"{step.id}/trials/{index}", out["OutputName"])


def emulated_tuning(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The trials and the pick, registered as the step's outputs."""
    details = step.details
    assert isinstance(details, ir.TuneDetails)
    standard = runs_standard_tuning(step)
    if details.objective is None or not any(o.name == "metrics" for o in step.outputs):
        ctx.error(step, "a tune step needs an objective, reported in its 'metrics' output")
        return []
    # Own commands: the capability table (TUNE_TRIAL_VALUES, TUNE_OWN_COMMAND) says they
    # are emulated, once for the pipeline; the catalog's script is native where its image is.
    if standard or runs_own_trials(step):
        trials = sample_trials(ctx.pipeline.name, step)
    else:  # the command takes no values: it runs once, with the fixed ones as its values
        trials = [{str(k): ir.thaw(v) for k, v in (details.hyperparameters or {}).items()}]
    if standard:
        ctx.warn(
            step,
            f"emulated: no SageMaker image for the framework, so {len(trials)} trials of the "
            f"standard script run as processing steps {step.id}-trial-<i> and '{step.id}' "
            f"picks the best by {details.objective.metric}; a failed trial fails the run",
        )
    if uses_spot(step):
        ctx.warn(
            step,
            "targets.sagemaker.spot: the emulated trials run as processing jobs, which "
            "SageMaker runs on demand (no managed spot); the setting has no effect",
        )
    instance_type, _ = machine(ctx, step)
    parallel = max(1, details.parallel_trials or len(trials))
    depends = ctx.depends_on(step)
    entries: list[dict[str, Any]] = []
    for index, values in enumerate(trials):
        entry_name(ctx, step, f"trial-{index}")  # reports a name over SageMaker's bound
        one = trial_step(step, index, values, standard)
        entry = processing_step(ctx, one, instance_type)
        _relocate(ctx, step, index, entry)
        if index >= parallel:
            entry["DependsOn"] = [entries[index - parallel]["Name"]]
        elif index and depends:
            entry["DependsOn"] = list(depends)
        entries.append(entry)
    has_values = any(o.name == VALUES_OUTPUT for o in step.outputs)
    root = ctx.run_uri(step.id, "trials")
    pick = select_step(ctx, step, trials, root, VALUES_OUTPUT if has_values else None)
    pick["DependsOn"] = [e["Name"] for e in entries]
    for out in step.outputs:
        file = (step.id, out.name) if out.is_parameter else None
        ctx.refs[(step.id, out.name)] = Ref(output_uri(step.id, out.name), file)
    ctx.exits[step.id] = [step.id]
    return [*entries, pick]
