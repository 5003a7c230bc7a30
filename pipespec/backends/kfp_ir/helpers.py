"""pipespec's own small tasks on KFP, as fixed programs: drawing a tune step's trials,
picking the best trial, and stopping a run with a fail step's message.

The programs are constants of pipespec, never built from spec text; everything a spec
says (search space, objective, message) reaches them through the container's env, which
KFP passes to the pod unchanged (see steps.py on placeholders in arguments).
"""

from __future__ import annotations

# `<tune>-trials`: max_trials sets drawn from the search space, seeded by the pipeline and
# step names so every run (and Airflow's `<step>.trials`) draws the same ones: the sampler
# Airflow's DAG files carry too (pipespec/backends/trials.py).
from pipespec.backends.trials import TRIALS_PROGRAM

__all__ = ["BEST_PROGRAM", "FAIL_PROGRAM", "TRIALS_PROGRAM"]

# `<tune>-best`: reads the executor input ({{$}}): every trial's outputs (lists, in trial
# order), picks the trial by the objective, and writes its outputs as the step's own.
# Artifact URIs map to the launcher's local paths as KFP's LocalPathForURI does.
BEST_PROGRAM = """\
import json, os, shutil, sys
executor = json.loads(sys.argv[1])
metric, goal = os.environ["PIPESPEC_METRIC"], os.environ["PIPESPEC_GOAL"]
inputs, outputs = executor.get("inputs", {}), executor.get("outputs", {})
values = inputs.get("parameterValues", {})
def local(uri):
    for scheme, root in (("gs://", "/gcs/"), ("minio://", "/minio/"), ("s3://", "/s3/")):
        if uri.startswith(scheme):
            return root + uri[len(scheme):]
    raise SystemExit("unsupported artifact URI: " + uri)
scored = [
    (index, result) for index, result in enumerate(values.get("metrics") or [])
    if isinstance(result, dict) and isinstance(result.get(metric), (int, float))
]
if not scored:
    raise SystemExit("no trial reported the metric " + repr(metric))
pick = max if goal == "maximize" else min
best, _ = pick(scored, key=lambda pair: pair[1][metric])
for name, spec in sorted(outputs.get("parameters", {}).items()):
    value = values["trials"][best] if name == "best_hyperparameters" else values[name][best]
    os.makedirs(os.path.dirname(spec["outputFile"]) or ".", exist_ok=True)
    with open(spec["outputFile"], "w") as out:
        json.dump(value, out)
for name, spec in sorted(outputs.get("artifacts", {}).items()):
    source = local(inputs["artifacts"][name]["artifacts"][best]["uri"])
    target = local(spec["artifacts"][0]["uri"])
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    if os.path.isdir(source):
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)
print("best trial:", best, json.dumps(values["trials"][best], sort_keys=True))
"""

FAIL_PROGRAM = 'printf "%s\\n" "$PIPESPEC_FAIL_MESSAGE" >&2; exit 1'
