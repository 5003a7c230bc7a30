"""Experiment tracking (`tracking: {mlflow: ...}`): its checks, and its lowering to the
environment variables and secret references MLflow reads by itself.

A step's tracking is its own `tracking`, else `defaults.tracking` (the whole block: a step
that names another server names its experiment too). It becomes

* ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME``: plain env values, and
* ``MLFLOW_TRACKING_TOKEN`` (``DATABRICKS_TOKEN`` for a databricks URI, which MLflow's
  Databricks client reads instead) from the `credentials` secret: an ``ir.SecretUse``,

so every backend renders them with what it already does for `env` and `secrets`, and mlflow
in the container (the standard scripts', or a user's own) picks them up with no argument.
A variable that `env` or `secrets` also sets is an error (PS256): one of the two would
silently lose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipespec import ir
from pipespec.diagnostics import Diagnostic, did_you_mean
from pipespec.ir import Text
from pipespec.spec import models
from pipespec.spec.loader import NodePath, SourceMap

URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"
DATABRICKS_TOKEN_ENV = "DATABRICKS_TOKEN"


def step_tracking(
    step: models.StepBase, defaults: models.Defaults
) -> tuple[models.MlflowTracking, str] | None:
    """The step's MLflow settings and where they come from ("user" or "default")."""
    if step.tracking is not None:
        return step.tracking.mlflow, "user"
    if defaults.tracking is not None:
        return defaults.tracking.mlflow, "default"
    return None


def token_env(mlflow: models.MlflowTracking) -> str:
    return DATABRICKS_TOKEN_ENV if mlflow.uri.startswith("databricks") else TOKEN_ENV


def tracking_env(mlflow: models.MlflowTracking) -> dict[str, str]:
    return {URI_ENV: mlflow.uri, EXPERIMENT_ENV: mlflow.experiment}


# --- checks -------------------------------------------------------------------------------


def tracking_problems(
    steps: Mapping[str, models.StepBase],
    defaults: models.Defaults,
    secrets: Iterable[str],
    smap: SourceMap,
) -> list[Diagnostic]:
    """PS211 for credentials naming no spec-level secret; PS256 for a variable that both
    `tracking` and `env`/`secrets` set. Each fault once, at the line that wrote it."""
    known = list(secrets)
    out: list[Diagnostic] = []
    blocks: list[tuple[models.Tracking, NodePath]] = []
    if defaults.tracking is not None:
        blocks.append((defaults.tracking, ("defaults", "tracking")))
    blocks += [(s.tracking, ("steps", sid, "tracking")) for sid, s in steps.items() if s.tracking]
    for block, base in blocks:
        name = block.mlflow.credentials
        if name is not None and name not in known:
            out.append(
                Diagnostic(
                    "PS211",
                    f"unknown secret '{name}'",
                    smap.span((*base, "mlflow", "credentials")),
                    did_you_mean(name, known) or "declare it under `secrets:`",
                )
            )
    for sid, step in steps.items():
        out.extend(_clashes(sid, step, defaults, smap))
    unique: dict[tuple[str, str, int, int], Diagnostic] = {}
    for d in out:
        assert d.span is not None
        unique.setdefault((d.code, d.span.file, d.span.line, d.span.col), d)
    return list(unique.values())


def _clashes(
    sid: str, step: models.StepBase, defaults: models.Defaults, smap: SourceMap
) -> list[Diagnostic]:
    found = step_tracking(step, defaults)
    if found is None:
        return []
    mlflow, origin = found
    tracked = set(tracking_env(mlflow))
    if mlflow.credentials is not None:
        tracked.add(token_env(mlflow))
    base: NodePath = ("steps", sid) if origin == "user" else ("defaults",)
    out: list[Diagnostic] = []
    for field in ("env", "secrets"):
        own = getattr(step, field) or {}
        inherited = getattr(defaults, field) or {}
        for var in sorted(tracked & (set(own) | set(inherited))):
            where: NodePath = ("steps", sid, field, var) if var in own else ("defaults", field, var)
            out.append(
                Diagnostic(
                    "PS256",
                    f"{var} is set both by `{field}` and by `tracking`",
                    smap.key_span(where),
                    f"remove it from `{field}`: `tracking.mlflow` sets it",
                    related=((smap.key_span((*base, "tracking")), "the tracking block"),),
                )
            )
    return out


# --- lowering -----------------------------------------------------------------------------


def lower_tracking(
    step: models.StepBase,
    defaults: models.Defaults,
    env: tuple[tuple[str, tuple[ir.Segment, ...]], ...],
    secrets: tuple[ir.SecretUse, ...],
    provenance: dict[str, str],
) -> tuple[tuple[tuple[str, tuple[ir.Segment, ...]], ...], tuple[ir.SecretUse, ...]]:
    """The step's env and secrets with its tracking's variables added (sorted, as the
    merged ones are). Values are literal text: a URI is never read for placeholders."""
    found = step_tracking(step, defaults)
    if found is None:
        return env, secrets
    mlflow, origin = found
    provenance["tracking"] = origin
    merged = dict(env)
    for var, value in tracking_env(mlflow).items():
        merged[var] = (Text(value),)
        provenance[f"env.{var}"] = origin
    uses = {use.env: use for use in secrets}
    if mlflow.credentials is not None:
        var = token_env(mlflow)
        uses[var] = ir.SecretUse(var, mlflow.credentials)
        provenance[f"secrets.{var}"] = origin
    return tuple(sorted(merged.items())), tuple(uses[k] for k in sorted(uses))
