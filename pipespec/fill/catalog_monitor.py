"""What the catalog gives a `monitor` step: the standard drift check, `pipespec:drift`.

A monitor with `drift: {metric, threshold}` and no command of its own compares its
`baseline` input with its `current` input (a dataset; `data` is taken as its synonym) or,
when it has neither, with its `log` input (a folder of logged prediction requests, JSON
Lines). Without a baseline, or without any of those, the catalog leaves the step alone
and the caller reports it incomplete with `monitor_hint`, which names what to add.

The script needs pandas, numpy and scipy: it runs in the catalog's scikit-learn image on
every target (scipy comes with scikit-learn).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from pipespec.spec import models
from pipespec.spec.semantics import effective_outputs

if TYPE_CHECKING:
    from pipespec.fill.catalog_fill import StepFill, _Filler

IMAGE_FRAMEWORK = "scikit-learn"
CURRENT_INPUTS = frozenset({"current", "data", "log"})


def current_input(step: models.StepBase) -> tuple[str, str] | None:
    """The drift check's flag for the current data and the input holding it, if any."""
    inputs = step.inputs or {}
    for name in ("current", "data"):
        if name in inputs:
            return "--current", name
    if "log" in inputs:
        return "--current-log", "log"
    return None


def fill_monitor(filler: _Filler) -> StepFill | None:
    step, catalog = filler.step, filler.catalog
    drift = getattr(step, "drift", None)
    if step.command is not None or step.script is not None or drift is None:
        return None
    current = current_input(step)
    if "baseline" not in (step.inputs or {}) or current is None:
        return None  # reported as incomplete, with monitor_hint
    flag, name = current
    args = ["--baseline", "${inputs.baseline}", flag, "${inputs." + name + "}"]
    args += ["--metric", drift.metric, "--threshold", repr(float(drift.threshold))]
    outputs = effective_outputs(step)
    # The user may have retyped an output: pass only those of the type the script writes.
    if outputs.get("report") == "artifact":
        args += ["--report", "${outputs.report}"]
    if outputs.get("metrics") == "metrics":
        args += ["--metrics", "${outputs.metrics}"]
    source = f"catalog:drift@{catalog.version}"
    filler.image_for(IMAGE_FRAMEWORK, f"catalog:{IMAGE_FRAMEWORK}@{catalog.version}")
    filler.put("script", "pipespec:drift", source)
    filler.put("args", args, source)
    return filler.fill


def monitor_hint(step: models.StepBase) -> str | None:
    """What a monitor lacks for the standard drift check, said as what to write."""
    if step.command is not None or step.script is not None:
        return None
    return drift_check_hint(set(step.inputs or {}), getattr(step, "drift", None) is not None)


def drift_check_hint(inputs: Collection[str], has_drift: bool) -> str | None:
    """The hint for a monitor running no code of its own, from its input names; None when
    the drift check has all it needs."""
    if not has_drift:
        return (
            "write `drift: {metric: psi, threshold: 0.2}` for the standard drift check "
            "(pipespec:drift), or a `command:` of your own"
        )
    lacking = []
    if "baseline" not in inputs:
        lacking.append("`baseline` (the reference dataset, such as the training data)")
    if not CURRENT_INPUTS & set(inputs):
        lacking.append(
            "`current` (the dataset to check) or `log` (a folder of logged prediction "
            "requests, JSON Lines)"
        )
    if not lacking:
        return None
    return (
        "the standard drift check (pipespec:drift) compares two inputs: add "
        + " and ".join(lacking)
        + " under `inputs:`, or write a `command:` of your own"
    )
