"""The fill pass: complete underspecified steps, record where each value came from, lock it.

Precedence is user > defaults > catalog > LLM, field by field; a value the user wrote is
never replaced (for `hyperparameters`, the catalog only adds keys the user left out).
Two entry points:

- `apply_fill` (compile, explain): reads the lock; a fresh entry is applied as pinned. With
  `locked=True` (the default when CI=true) a missing or stale entry is an error; otherwise
  the deterministic catalog fills in memory and the LLM is never called.
- `run_fill` (`pipespec fill`): reuses fresh entries, fills from the catalog, asks the LLM
  for the rest (transform/ingest steps described in prose), and returns the new lock and
  the scripts to write beside the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipespec.diagnostics import Diagnostic, Severity, Span
from pipespec.fill.catalog_fill import catalog_fill, model_source, sagemaker_region
from pipespec.fill.catalog_monitor import monitor_hint
from pipespec.fill.info import FillInfo
from pipespec.fill.lock import (
    Lock,
    LockEntry,
    LockError,
    entry_position,
    input_hash,
    lock_path,
    pin_problem,
    read_lock,
)
from pipespec.fill.scripts import sha256_text
from pipespec.spec import models
from pipespec.spec.semantics import TARGET_WRITTEN_OUTPUTS, effective_outputs, step_kind
from pipespec.spec.serving import serving_image
from pipespec.spec.validate import ValidatedSpec

if TYPE_CHECKING:
    from pipespec.fill.llm import LLMConfig, Usage

# Part of every step's input hash: a new prompt or answer schema refills LLM-written steps.
PROMPT_VERSION = "fill-v3"
LLM_KINDS = ("transform", "ingest")


@dataclass
class FillResult:
    vspec: ValidatedSpec
    info: FillInfo
    diagnostics: list[Diagnostic]
    lock: Lock | None = None  # run_fill: the lock to write
    files: dict[str, str] = field(default_factory=dict)  # run_fill: scripts to write
    usage: Usage | None = None
    llm_steps: list[str] = field(default_factory=list)


# --- what a step lacks --------------------------------------------------------------------


def missing_fields(step: models.StepBase, defaults: models.Defaults) -> list[str]:
    """The complete-form fields the step lacks once defaults apply (empty: complete)."""
    from pipespec.schemas import complete_form_shortfall

    form: dict[str, Any] = {
        "kind": step_kind(step),
        **step.model_dump(exclude_none=True, exclude=set(models.StepBase.model_fields)),
    }
    image = step.image or defaults.image
    if image:
        form["image"] = image
    if step.command:
        form["command"] = step.command
    if step.script:
        form["script"] = step.script
    shortfall = complete_form_shortfall(step_kind(step), form)
    return sorted({*shortfall.missing, *(["command"] if shortfall.runnable else [])})


def beyond_a_script(sid: str, step: models.StepBase, defaults: models.Defaults) -> list[str]:
    """What the step would still lack with an LLM-written script (the model chooses the
    image and resources too); empty when the script completes it."""
    with_script = _apply(step, {"script": f"scripts/{sid}.py", "args": []})
    return [m for m in missing_fields(with_script, defaults) if m not in ("image", "resources")]


def served_by_targets(step: models.StepBase) -> bool:
    """A deploy to an endpoint of a model another step makes, with no code of its own:
    every target's own serving deploys it (KServe or Seldon on the Kubernetes targets,
    Vertex's and SageMaker's services), so fill has nothing to write; compile says where
    a target cannot (Airflow's local operator)."""
    from pipespec.spec.references import ArtifactRef, BadReference, parse_input

    model = (step.inputs or {}).get("model") if step_kind(step) == "deploy" else None
    try:
        from_a_step = isinstance(model, str) and isinstance(parse_input(model), ArtifactRef)
    except BadReference:
        from_a_step = False
    return (
        from_a_step
        and getattr(step, "endpoint", None) is not None
        and step.command is None
        and step.script is None
    )


# --- context and hashing ------------------------------------------------------------------


def step_context(vspec: ValidatedSpec, sid: str, step: models.StepBase) -> dict[str, Any]:
    """Every fact a step's fill depends on; its hash decides whether a lock entry is fresh."""
    data = vspec.loaded.data
    source = model_source(vspec, step)
    return {
        "step": data["steps"][sid],
        "defaults": data.get("defaults"),
        # Outputs the target writes (a tune's best_hyperparameters) are no input to fill:
        # leaving them out keeps locks written before they existed fresh.
        "outputs": {
            name: type_name
            for name, type_name in effective_outputs(step).items()
            if name not in TARGET_WRITTEN_OUTPUTS.get(step_kind(step), ())
        },
        "model_source": (
            {"framework": getattr(source, "framework", None), "task": getattr(source, "task", None)}
            if source is not None
            else None
        ),
        "params": sorted((data.get("params") or {}).keys()),
        "sagemaker_region": sagemaker_region(vspec),
        # Only when set, so the locks of specs without one keep their hashes.
        **({"serving_image": served} if (served := serving_image(step, vspec.steps)) else {}),
        **_declared_columns(vspec, step),
    }


def _declared_columns(vspec: ValidatedSpec, step: models.StepBase) -> dict[str, Any]:
    """The columns an LLM-written step's data declares (its own, and those its inputs take
    from their producers or read from a sample): a change refills it. Empty when nothing is
    declared, so that the locks of specs without declarations keep their hashes."""
    from pipespec.fill.data_shape import dataset_names, step_shape

    if step_kind(step) not in LLM_KINDS:
        return {}
    shape = step_shape(vspec.loaded.file, step, vspec.steps, *dataset_names(step))
    return {"columns": shape.to_json()} if shape.declared else {}


def step_hash(context: dict[str, Any], catalog_version: str) -> str:
    return input_hash({"context": context, "catalog": catalog_version, "prompt": PROMPT_VERSION})


# --- applying fills -----------------------------------------------------------------------


def _apply(step: models.StepBase, fields: dict[str, Any]) -> models.StepBase:
    """The step with filled fields; user-written fields are never replaced."""
    update = {}
    for name, value in fields.items():
        current = getattr(step, name, None)
        if current is None:
            update[name] = value
        elif name in ("hyperparameters", "secrets") and isinstance(current, dict):
            update[name] = {**value, **current}
    # Re-validate: a lock edited by hand must not smuggle in what the models forbid.
    data = {**step.model_dump(exclude_none=True), **update}
    return type(step).model_validate(data)


def _apply_entry(step: models.StepBase, entry: LockEntry) -> models.StepBase | None:
    """The step with a lock entry's fields, or None when they do not fit (a hand edit)."""
    from pydantic import ValidationError

    try:
        return _apply(step, entry.fields)
    except (ValidationError, TypeError, ValueError):
        return None


def _record(
    info: FillInfo,
    steps: dict[str, models.StepBase],
    sid: str,
    step: models.StepBase,
    provenance: dict[str, str],
    target_images: dict[str, str],
) -> None:
    """A step completed: its model, and where its values came from."""
    steps[sid] = step
    info.provenance[sid] = dict(provenance)
    info.target_images[sid] = dict(target_images)


def _rebuild(vspec: ValidatedSpec, steps: dict[str, models.StepBase]) -> ValidatedSpec:
    spec = vspec.spec
    assert spec is not None
    new_spec = spec.model_copy(update={"steps": steps})
    return ValidatedSpec(vspec.loaded, new_spec, steps, set(vspec.broken_steps))


def _step_span(vspec: ValidatedSpec, sid: str) -> Span:
    return vspec.loaded.source_map.key_span(("steps", sid))


def apply_fill(vspec: ValidatedSpec, *, locked: bool) -> FillResult:
    """Fill from the lock (and, unless locked, the catalog); never calls an LLM."""
    spec = vspec.spec
    assert spec is not None
    defaults = spec.defaults or models.Defaults()
    diags: list[Diagnostic] = []
    info = FillInfo()
    needy = {
        sid: step
        for sid, step in vspec.steps.items()
        if missing_fields(step, defaults) and not served_by_targets(step)
    }
    if not needy:
        return FillResult(vspec, info, diags)
    from pipespec.fill.catalog import load_catalog

    catalog = load_catalog()
    lock: Lock | None = None
    try:
        lock = read_lock(vspec.loaded.file)
    except LockError as exc:
        diags.append(Diagnostic("PS501", str(exc), Span(vspec.loaded.file, 1, 1)))
    lock_name = lock_path(vspec.loaded.file).as_posix()
    steps = dict(vspec.steps)
    for sid, step in needy.items():
        span = _step_span(vspec, sid)
        fresh = step_hash(step_context(vspec, sid, step), catalog.version)
        entry = lock.steps.get(sid) if lock is not None else None
        if entry is not None and entry.input_hash == fresh:
            problem = _entry_problem(vspec, sid, entry, span)
            if problem is not None:
                diags.append(problem)
                continue
            applied = _apply_entry(step, entry)
            if applied is None:
                diags.append(
                    Diagnostic(
                        "PS501",
                        f"the lock entry for step '{sid}' does not fit the step "
                        f"(was {lock_name} edited by hand?)",
                        span,
                        "run `pipespec fill` to rewrite it",
                    )
                )
                continue
            _record(info, steps, sid, applied, entry.provenance, entry.target_images)
            continue
        if locked:
            diags.append(_not_in_lock(vspec, sid, span, stale=entry is not None, lock=lock))
            continue
        filled = catalog_fill(vspec, sid, step, defaults, catalog)
        if filled is not None:
            _record(
                info,
                steps,
                sid,
                _apply(step, filled.fields),
                filled.provenance,
                filled.target_images,
            )
    return FillResult(_rebuild(vspec, steps), info, diags)


def _not_in_lock(
    vspec: ValidatedSpec, sid: str, span: Span, *, stale: bool, lock: Lock | None
) -> Diagnostic:
    """A locked compile met a step the lock does not fill: no entry (PS501) or a stale one."""
    lock_name = lock_path(vspec.loaded.file).as_posix()
    if not stale:
        code = "PS501"
        message = (
            f"step '{sid}' needs fill and {lock_name} has no entry for it"
            if lock is not None
            else f"step '{sid}' needs fill and there is no lock file {lock_name}"
        )
    else:
        code = "PS502"
        message = (
            f"the lock entry for step '{sid}' is stale: the step, `defaults:`, the "
            "catalog or the prompt changed since `pipespec fill` ran"
        )
    import shlex  # the hint is a command to paste: quote the path

    again = "again" if code == "PS502" else "once"
    return Diagnostic(
        code,
        message,
        span,
        f"run `pipespec fill {shlex.quote(vspec.loaded.file)}` {again} and commit "
        "the lock file (`check` reads only the lock, as `compile` does when CI=true)",
    )


def _entry_problem(
    vspec: ValidatedSpec, sid: str, entry: LockEntry, span: Span
) -> Diagnostic | None:
    """Why a fresh entry cannot be applied: a pin missing or stray, a changed or unsafe script."""
    pins = pin_problem(sid, entry)
    if pins is not None:
        line, col = entry_position(vspec.loaded.file, sid)
        where = Span(lock_path(vspec.loaded.file).as_posix(), line, col)
        return Diagnostic("PS516", pins, where, "run `pipespec fill` to pin the script again")
    changed = _changed_files(vspec, entry)
    if changed is not None:
        return Diagnostic("PS506", changed, span, "review it, then run `pipespec fill`")
    unsafe = _unsafe_script(vspec, entry)
    if unsafe is not None:
        return Diagnostic(
            "PS507", unsafe, span, "run `pipespec fill` to have the script written again"
        )
    return None


def _changed_files(vspec: ValidatedSpec, entry: LockEntry) -> str | None:
    base = Path(vspec.loaded.file).parent
    for rel, digest in sorted(entry.files.items()):
        path = base / rel
        if not path.is_file():
            return f"{path.as_posix()} is pinned in the lock but missing"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return f"{path.as_posix()} cannot be read: {exc}"
        if sha256_text(text) != digest:
            return f"{path.as_posix()} changed since `pipespec fill` pinned it"
    return None


def _unsafe_script(vspec: ValidatedSpec, entry: LockEntry) -> str | None:
    """An LLM-written script is checked again on every compile: pins prove origin, not safety."""
    from pipespec.fill.policy import check_script

    if not entry.provenance.get("script", "").startswith("llm:"):
        return None
    base = Path(vspec.loaded.file).parent
    for rel in sorted(entry.files):
        problems = check_script((base / rel).read_text(encoding="utf-8"))
        if problems:
            listed = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
            return f"{(base / rel).as_posix()} fails the LLM script policy: {listed}"
    return None


# --- pipespec fill ------------------------------------------------------------------------


def run_fill(vspec: ValidatedSpec, llm: LLMConfig | None) -> FillResult:
    """Everything `pipespec fill` decides for one spec (nothing is written here)."""
    from pipespec.fill.catalog import load_catalog

    spec = vspec.spec
    assert spec is not None
    defaults = spec.defaults or models.Defaults()
    catalog = load_catalog()
    diags: list[Diagnostic] = []
    info = FillInfo()
    old: Lock | None = None
    try:
        old = read_lock(vspec.loaded.file)
    except LockError as exc:
        diags.append(
            Diagnostic(
                "PS501",
                f"{exc}; it will be rewritten",
                Span(vspec.loaded.file, 1, 1),
                severity=Severity.WARNING,
            )
        )
    lock = Lock(Path(vspec.loaded.file).name, catalog.version)
    files: dict[str, str] = {}
    steps = dict(vspec.steps)
    pending: list[tuple[str, models.StepBase, str]] = []
    for sid, step in vspec.steps.items():
        missing = missing_fields(step, defaults)
        if not missing or served_by_targets(step):
            continue
        fresh = step_hash(step_context(vspec, sid, step), catalog.version)
        entry = old.steps.get(sid) if old is not None else None
        reused = (
            _apply_entry(step, entry)
            if entry is not None
            and entry.input_hash == fresh
            and _entry_problem(vspec, sid, entry, _step_span(vspec, sid)) is None
            else None
        )
        if entry is not None and reused is not None:
            lock.steps[sid] = entry
            _record(info, steps, sid, reused, entry.provenance, entry.target_images)
            continue
        filled = catalog_fill(vspec, sid, step, defaults, catalog)
        if filled is not None:
            candidate = _apply(step, filled.fields)
            if not missing_fields(candidate, defaults):
                _record(info, steps, sid, candidate, filled.provenance, filled.target_images)
                lock.steps[sid] = LockEntry(
                    fresh, _jsonable(filled.fields), filled.provenance, filled.target_images
                )
                continue
        if step_kind(step) in LLM_KINDS and step.description and not (step.command or step.script):
            beyond = beyond_a_script(sid, step, defaults)
            if beyond:
                # A script cannot complete it: say so now, not after an LLM request (and
                # not at compile time, as PS500 on a step fill claimed to have filled).
                diags.append(_incomplete(vspec, sid, step, beyond, defaults))
            else:
                pending.append((sid, step, fresh))
            continue
        still = missing_fields(_apply(step, filled.fields) if filled else step, defaults)
        diags.append(_incomplete(vspec, sid, step, still, defaults))
    result = FillResult(_rebuild(vspec, steps), info, diags, lock, files)
    if pending:
        from pipespec.fill.llm_steps import llm_fill

        llm_fill(vspec, pending, llm, defaults, catalog, result, steps)
        result.vspec = _rebuild(vspec, steps)
    return result


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(fields, default=_model_dump))
    return out


def _model_dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _incomplete(
    vspec: ValidatedSpec,
    sid: str,
    step: models.StepBase,
    missing: list[str],
    defaults: models.Defaults,
) -> Diagnostic:
    kind = step_kind(step)
    what = ", ".join(f"`{m}`" for m in missing) or "its complete form"
    if kind in ("train", "tune") and not (
        getattr(step, "framework", None) and getattr(step, "task", None)
    ):
        hint = "write `framework:` and `task:` so the catalog can complete it, or write the fields"
    elif kind == "ingest" and "source" in missing:
        hint = (
            "write `source:` (sql with a connection and a query, or a uri, s3, gcs or "
            "bigquery location): the catalog writes the ingest script from it; a "
            "description alone does not say where the data is"
        )
    elif kind in LLM_KINDS and not step.description:
        hint = "write the fields, or a `description:` for the LLM to write a script from"
    elif kind == "monitor" and (monitor := monitor_hint(step)) is not None:
        hint = monitor
    elif "image" in missing:
        hint = "write `image:` on the step or under `defaults:`"
    else:
        hint = "write the fields yourself: neither the catalog nor the LLM completes this step"
    return Diagnostic("PS500", f"step '{sid}' still needs {what}", _step_span(vspec, sid), hint)
