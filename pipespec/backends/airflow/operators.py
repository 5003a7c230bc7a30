"""The operator arguments of one step's task: a KubernetesPodOperator (``operator:
kubernetes``), or a PythonOperator running the argv on the worker (``operator: local``).

Each factory returns (fixed kwargs, per-item kwargs): a fan-out maps the per-item part
over its items and passes the fixed part to ``partial()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pipespec import ir
from pipespec.backends import k8s
from pipespec.backends.airflow.context import (
    Context,
    argv_of,
    is_mapped,
    written_parameter_outputs,
)
from pipespec.backends.airflow.pycode import call
from pipespec.backends.airflow.text import JinjaResolver, plain
from pipespec.pysafe import Code

Kwargs = tuple[list[tuple[str, Any]], dict[str, Any]]


class KwargsFactory(Protocol):
    def __call__(
        self,
        ctx: Context,
        step: ir.Step,
        item_text: str | None,
        extra: tuple[str, ...] = (),
        item_fields: Mapping[str, str] | None = None,
    ) -> Kwargs: ...


def _argv_env(
    ctx: Context,
    step: ir.Step,
    item_text: str | None,
    extra: tuple[str, ...],
    item_fields: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    resolver = JinjaResolver(ctx, item_text, item_fields)
    argv = [resolver.value(step, arg) for arg in argv_of(step)] + list(extra)
    env = {name: resolver.value(step, value) for name, value in step.env}
    return argv, env


def k8s_kwargs(
    ctx: Context,
    step: ir.Step,
    item_text: str | None,
    extra: tuple[str, ...] = (),
    item_fields: Mapping[str, str] | None = None,
) -> Kwargs:
    """(fixed kwargs, per-item kwargs) for a KubernetesPodOperator."""
    fixed: list[tuple[str, Any]] = []
    assert step.image is not None
    argv, env = _argv_env(ctx, step, item_text, extra, item_fields)
    fixed.append(("name", step.id))
    fixed.append(("image", plain(step.image)))
    if ctx.namespace:
        fixed.append(("namespace", plain(ctx.namespace)))
    if ctx.conn_id:
        fixed.append(("kubernetes_conn_id", plain(ctx.conn_id)))
    per_item: dict[str, Any] = {"cmds": argv[:1], "arguments": argv[1:]}
    if env:
        per_item["env_vars"] = env
    secrets = k8s.secrets_as_env(step, ctx.secrets)
    for use in secrets.unmapped:
        ctx.error(
            f"secret '{use.secret}' has no `kubernetes:` mapping, which the "
            "KubernetesPodOperator needs to expose it without writing its value",
            step,
            f"add `kubernetes: {{secret: NAME, key: KEY}}` to secrets.{use.secret}",
        )
    if secrets.env:
        fixed.append(
            ("secrets", [call("Secret", "env", s.env, s.secret, s.key) for s in secrets.env])
        )
    resources = k8s.requirements(step.resources)
    if resources is not None:
        fixed.append(
            (
                "container_resources",
                call(
                    "k8s.V1ResourceRequirements",
                    requests=resources.requests,
                    limits=resources.limits,
                ),
            )
        )
    fixed.extend(placement_kwargs(step))
    if written_parameter_outputs(step):
        fixed.append(("do_xcom_push", True))
    fixed.append(("get_logs", True))
    fixed.append(("on_finish_action", "delete_pod"))
    return fixed, per_item


def placement_kwargs(step: ir.Step) -> list[tuple[str, Any]]:
    """Where the pod may run and as whom: node selector, tolerations, service account."""
    out: list[tuple[str, Any]] = []
    selector = k8s.node_selector(step)
    if selector:
        out.append(("node_selector", selector))
    tolerations = k8s.tolerations(step)
    if tolerations:
        out.append(("tolerations", [call("k8s.V1Toleration", **t) for t in tolerations]))
    if step.service_account is not None:
        out.append(("service_account_name", plain(step.service_account)))
    return out


def local_kwargs(
    ctx: Context,
    step: ir.Step,
    item_text: str | None,
    extra: tuple[str, ...] = (),
    item_fields: Mapping[str, str] | None = None,
) -> Kwargs:
    """(fixed kwargs, per-item kwargs) for a PythonOperator running ``_run_local``."""
    argv, env = _argv_env(ctx, step, item_text, extra, item_fields)
    outputs = {
        o.name: ctx.artifact_uri(step, o.name, mapped_item=is_mapped(step))
        for o in step.outputs
        # best_hyperparameters is the best-trial pick's, not a file the command writes
        if o.is_parameter and o.name not in ir.TARGET_WRITTEN_OUTPUTS.get(step.kind, ())
    }
    connections = {}
    for use in step.secrets:
        airflow_ref = ctx.secrets[use.secret].platforms.get("airflow")
        if airflow_ref is None:
            ctx.error(
                f"secret '{use.secret}' has no `airflow:` mapping (a connection id), "
                "which operator: local reads at run time",
                step,
                f"add `airflow: {{conn_id: NAME}}` to secrets.{use.secret}",
            )
            continue
        connections[use.env] = plain(airflow_ref["conn_id"])
    # Local paths the step writes under: their parent directories must exist first.
    local_dirs = sorted(
        {
            ctx.artifact_uri(step, o.name, mapped_item=is_mapped(step)).rsplit("/", 1)[0]
            for o in step.outputs
            if "://" not in ctx.root
        }
    )
    fixed: list[tuple[str, Any]] = [("python_callable", Code("_run_local"))]
    op_kwargs = {
        "argv": argv,
        "env": env,
        "connections": connections,
        "outputs": outputs,
        "local_dirs": local_dirs,
    }
    return fixed, {"op_kwargs": op_kwargs}
