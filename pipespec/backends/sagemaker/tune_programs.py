"""pipespec's fixed programs for tune steps on SageMaker: constants of pipespec, never
built from spec text. What a spec says (the script's arguments, the search space, the
objective) reaches them as a plan file (JSON data) pipespec writes beside them.

- ``TRIAL_RUNNER`` (``sagemaker_program`` of a native tuning job): one trial. The framework
  container (sagemaker-training-toolkit) untars ``sourcedir.tar.gz`` into its code folder,
  installs its ``requirements.txt`` and runs the program, which reads ``plan.json`` beside
  it and the trial's values from ``/opt/ml/input/config/hyperparameters.json``, merges them
  into the script's ``--hyperparameters`` JSON (typed as the search space says), runs the
  script, writes the values it used to ``hyperparameters.json`` in the job's output data
  (SageMaker keeps it in ``output.tar.gz``) and prints each number of the metrics file as
  ``pipespec-metric NAME=VALUE``, which the job's MetricDefinitions read.
- ``BEST_PROGRAM`` (``<tune>-best``): copies files out of the best training job's
  ``output.tar.gz`` (its metrics and values) to the step's value outputs.
- ``SELECT_PROGRAM`` (an emulated tune's ``<tune>`` step): reads every trial's metrics,
  picks the best by the objective, and copies its outputs to the step's own.
"""

from __future__ import annotations

from pipespec.backends.sagemaker.launcher_program import HELPERS

PLAN_FILE = "plan.json"
TRIAL_RUNNER_FILE = "pipespec_trial.py"
BEST_PROGRAM_FILE = "pipespec_best.py"
SELECT_PROGRAM_FILE = "pipespec_select.py"
METRIC_PREFIX = "pipespec-metric "

# Plan: "script" (file beside the program), "argv" and "env" (segment lists: {"text"},
# {"param": NAME} a static hyperparameter holding a param's value, {"hyperparameter": NAME}
# the trial's value, {"file": PATH} / {"files": [...]} a value another step reported),
# "hyperparameters_at" (index of the argv item holding the script's --hyperparameters
# JSON, or null), "dimensions" (NAME -> {"type", "choices": {text: value}}), "config" (the
# hyperparameters file), "unpack" (folders whose *.tar.gz to extract first), "objective",
# "metrics" (the metrics file the script writes), "values" (where the trial's values go).
TRIAL_RUNNER = (
    HELPERS
    + """\
HERE = os.path.dirname(os.path.abspath(__file__))


def typed(name, dim, raw):
    if dim["type"] == "categorical":
        if raw in dim["choices"]:
            return dim["choices"][raw]
        sys.exit("pipespec: " + repr(raw) + " is no choice of " + name)
    number = float(raw)
    return int(round(number)) if dim["type"] == "int" else number


plan = read(os.path.join(HERE, "plan.json"))
given = read(plan["config"])
trial = {n: typed(n, d, given[n]) for n, d in sorted(plan["dimensions"].items())}


def build(parts):
    out = []
    for part in parts:
        if "text" in part:
            out.append(part["text"])
        elif "param" in part:
            out.append(given["pipespec_param_" + part["param"]])
        elif "hyperparameter" in part:
            out.append(text(trial[part["hyperparameter"]]))
        elif "file" in part:
            out.append(text(read(part["file"])))
        else:
            out.append(text([read(path) for path in part["files"]]))
    return "".join(out)


for folder in plan["unpack"]:
    unpack(folder)
argv = [build(parts) for parts in plan["argv"]]
at = plan["hyperparameters_at"]
if at is None:
    argv += ["--hyperparameters", json.dumps(trial, sort_keys=True)]
else:
    merged = json.loads(argv[at])
    merged.update(trial)
    argv[at] = json.dumps(merged, sort_keys=True)
env = dict(os.environ)
env.update({name: build(parts) for name, parts in plan["env"].items()})
for path in (plan["metrics"], plan["values"]):
    os.makedirs(os.path.dirname(path), exist_ok=True)
print("pipespec: trial " + json.dumps(trial, sort_keys=True), flush=True)
code = subprocess.call([sys.executable, os.path.join(HERE, plan["script"]), *argv], env=env)
if code:
    sys.exit(code)
with open(plan["values"], "w", encoding="utf-8") as f:
    json.dump(trial, f, sort_keys=True)
metrics = read(plan["metrics"])
for name, value in sorted(metrics.items()):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        print("pipespec-metric " + name + "=" + repr(float(value)), flush=True)
if not isinstance(metrics.get(plan["objective"]), (int, float)):
    sys.exit("pipespec: the metrics have no number " + repr(plan["objective"]))
"""
)

# argv[1]: the folder holding the best training job's output.tar.gz; then pairs of a
# member's name in it and the file to copy it to.
BEST_PROGRAM = """\
import os, sys, tarfile

folder, pairs = sys.argv[1], sys.argv[2:]
archives = sorted(n for n in os.listdir(folder) if n.endswith(".tar.gz"))
if not archives:
    sys.exit("pipespec: no output.tar.gz of the best training job in " + folder)
with tarfile.open(os.path.join(folder, archives[0])) as archive:
    files = {}
    for found in archive.getmembers():
        if found.isfile():
            files[found.name[2:] if found.name.startswith("./") else found.name] = found
    for member, target in zip(pairs[::2], pairs[1::2]):
        if member not in files:
            sys.exit("pipespec: no file " + member + " in " + archives[0])
        source = archive.extractfile(files[member])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(source.read())
        print("pipespec: best trial's " + member + " -> " + target)
"""

# argv[1]: plan.json: "metric", "goal", "trials" (each trial's values, in order), "root"
# (the folder holding each trial's outputs as <index>/<output>), "metrics" (the metrics
# output's name), "copy" (output name -> the step's own folder for it), "values" (where
# the best trial's values go, or null).
SELECT_PROGRAM = """\
import json, os, shutil, sys

with open(sys.argv[1], encoding="utf-8") as f:
    plan = json.load(f)
metric, root = plan["metric"], plan["root"]


def score(index):
    path = os.path.join(root, str(index), plan["metrics"], plan["metrics"] + ".json")
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f).get(metric)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


scored = [(i, score(i)) for i in range(len(plan["trials"]))]
scored = [(i, s) for i, s in scored if s is not None]
if not scored:
    sys.exit("pipespec: no trial reported the metric " + repr(metric))
pick = max if plan["goal"] == "maximize" else min
best, value = pick(scored, key=lambda pair: pair[1])
chosen = json.dumps(plan["trials"][best], sort_keys=True)
print("pipespec: best trial", best, metric, "=", value, chosen)
for name, target in sorted(plan["copy"].items()):
    shutil.copytree(os.path.join(root, str(best), name), target, dirs_exist_ok=True)
if plan["values"]:
    os.makedirs(os.path.dirname(plan["values"]), exist_ok=True)
    with open(plan["values"], "w", encoding="utf-8") as f:
        json.dump(plan["trials"][best], f, sort_keys=True)
"""
