"""The diagnostics only the Airflow backend finds: what Airflow cannot do for a step, or
does differently. (A parameter output someone reads that nothing writes is the compiler's
check, PS410, for every target; only its one-per-pod limit is Airflow's.)"""

from __future__ import annotations

from pipespec import ir
from pipespec.backends.airflow.context import Context, natively_tuned, written_parameter_outputs

# Kind fields Airflow has no construct for: the step's command must act on them.
_UNMAPPED_FIELDS = {
    "tune": ("objective", "search_space", "max_trials", "parallel_trials"),
    "deploy": ("endpoint",),
    "monitor": ("drift",),
}


def check_step(ctx: Context, step: ir.Step) -> None:
    params_out = written_parameter_outputs(step)
    if ctx.kubernetes and len(params_out) > 1:
        ctx.error(
            f"step '{step.id}' writes {len(params_out)} parameter/metrics outputs "
            f"({', '.join(params_out)}); a KubernetesPodOperator returns "
            "one XCom file per pod",
            step,
            "on Airflow with operator: kubernetes, give a step at most one metrics or "
            "parameter output (put several values in one metrics/dict output)",
        )
    if step.resources.accelerator and ctx.operator == "local":
        ctx.warn(
            f"step '{step.id}' asks for {step.resources.accelerator}; operator: local "
            "runs on the worker and cannot request accelerators",
            step,
        )
    present = [
        name
        for name in _UNMAPPED_FIELDS.get(step.kind, ())
        if name in step.details and not (natively_tuned(step) and step.kind == "tune")
    ]
    # Settings a standard script reads from its arguments; a user's command gets none.
    own_code = step.script is None or not step.script.name.startswith("pipespec:")
    if own_code and step.kind in ("train", "tune") and "hyperparameters" in step.details:
        present.append("hyperparameters")
    if own_code and step.kind == "ingest" and "source" in step.details:
        present.append("source")
    if present:
        verb, pronoun = ("is", "it") if len(present) == 1 else ("are", "them")
        ctx.warn(
            f"{step.kind} step '{step.id}': {', '.join(present)} {verb} not passed to "
            f"the Airflow task (Airflow has no construct for {pronoun}); the step runs "
            f"once, as its command, which must act on {pronoun} itself",
            step,
            "compile to sagemaker or vertex for native tuning, endpoints and monitoring"
            if step.kind != "monitor"
            else "the command must compute the drift itself",
        )
    if isinstance(step.details, ir.MonitorDetails) and step.details.schedule:
        ctx.warn(
            f"monitor step '{step.id}' has its own schedule; on Airflow it runs once per "
            "DAG run (schedule a separate pipeline for periodic monitoring)",
            step,
        )
    for key in step.target_overrides:
        if key == "airflow" and step.target_overrides[key].get("instance_type"):
            ctx.warn(
                f"step '{step.id}': Airflow has no instance types; "
                "targets.airflow.instance_type is not used",
                step,
            )
