"""pipespec's fixed programs on Vertex AI: constants of pipespec, never built from spec
text. What a spec says reaches them as arguments or env values (data), never as code.

- ``SECRET_RUNNER``: reads each secret a step uses from Secret Manager when the step
  starts (with the job's own service account, through the metadata server), exports it,
  and runs the step; the value is never in the pipeline, its parameters or its logs.
- ``REQUIREMENTS_RUNNER``: installs the packages a catalog image lacks, then runs the step.
- ``JOB_RUNNER``: a training job's step, its argv rebuilt where compiling cannot write it:
  run-time text values from a file (they cannot go into the job's JSON unescaped) and, for
  one trial of a tuning job, the trial's values (Vertex appends them as ``--name=value``)
  and its own output paths; a trial then reports the objective to Vertex (hypertune file).
- ``VALUES_PROGRAM``: writes a task's run-time text values to a file for ``JOB_RUNNER``.
- ``MODEL_PROGRAM``: a model step's inputs as Vertex reads them: the model as a
  ``google.UnmanagedContainerModel`` with its serving image, and artifacts' URIs.
- ``BEST_TRIAL_PROGRAM``: reads a finished tuning job's trials and returns the best one's
  model, metrics and hyperparameters as the tune step's outputs.
"""

from __future__ import annotations

SECRET_RUNNER = """\
import base64, json, os, sys, urllib.request
args = sys.argv[1:]
cut = args.index("--")
pairs, argv = args[:cut], args[cut + 1:]
META = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
def get(url, headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
        return json.loads(r.read(1 << 20))
token = get(META, {"Metadata-Flavor": "Google"})["access_token"]
for pair in pairs:
    name, _, ref = pair.partition("=")
    url = "https://secretmanager.googleapis.com/v1/" + ref + ":access"
    data = get(url, {"Authorization": "Bearer " + token})["payload"]["data"]
    os.environ[name] = base64.b64decode(data).decode("utf-8")
os.execvp(argv[0], argv)
"""

# The packages come from pipespec's catalog (package data), never from a spec; they are
# word-split on purpose: one requirement per word.
REQUIREMENTS_RUNNER = (
    "python3 -m pip install --quiet --no-input --disable-pip-version-check "
    '$PIPESPEC_REQUIREMENTS && exec "$@"'
)

# A training job's step argv, rebuilt where pipespec cannot write it when compiling.
# argv[1] is the plan (JSON, from the step: which arguments it rebuilds, from what); with
# "values", argv[2] is the file `<task>-values` wrote the step's run-time text values to
# (they cannot go into the job's JSON spec unescaped); then the step's argv; then what
# Vertex appends to a tuning trial: its `--name=value`. A trial's plan also says where its
# outputs go (its own folder of the job's output directory) and which metric it reports.
JOB_RUNNER = """\
import json, os, re, subprocess, sys, time
plan = json.loads(sys.argv[1])
first = 3 if plan.get("values") else 2
given = {}
if plan.get("values"):
    with open(sys.argv[2], encoding="utf-8") as f:
        given = json.load(f)
argv, appended = sys.argv[first:first + plan["length"]], sys.argv[first + plan["length"]:]
values = {}
for arg in appended:
    m = re.fullmatch(r"--([A-Za-z0-9_.-]+)=(.*)", arg, re.S)
    if m and m.group(1) in plan.get("dimensions", ()):
        values[m.group(1)] = m.group(2)
def local(uri):
    return "/gcs/" + uri[len("gs://"):] if uri.startswith("gs://") else uri
trial = "objective" in plan
model_dir = os.environ["AIP_MODEL_DIR"].rstrip("/") if trial else ""
trial_dir = local(model_dir.rsplit("/", 1)[0]) if trial else ""
def path(name):
    return local(model_dir) if name == "model" else trial_dir + "/outputs/" + name
def text(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
def build(parts):
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif "output" in part:
            out.append(path(part["output"]))
        elif "value" in part:
            out.append(text(given[part["value"]]))
        else:
            out.append(values[part["hyperparameter"]])
    return "".join(out)
for index, parts in plan["arguments"].items():
    argv[int(index)] = build(parts)
if not trial:
    os.execvp(argv[0], argv + appended)
for name in plan["outputs"]:
    os.makedirs(path(name) if name == "model" else trial_dir + "/outputs", exist_ok=True)
code = subprocess.call(argv + (appended if plan["pass_values"] else []))
if code:
    sys.exit(code)
with open(path(plan["metrics"]), encoding="utf-8") as f:
    value = float(json.load(f)[plan["objective"]])
report = os.environ.get("CLOUD_ML_HP_METRIC_FILE", "/tmp/hypertune/output.metrics")
os.makedirs(os.path.dirname(report), exist_ok=True)
line = {"timestamp": time.time(), "trial": os.environ.get("CLOUD_ML_TRIAL_ID", "0"),
        "global_step": "0", plan["objective"]: str(value)}
with open(report, "a", encoding="utf-8") as f:
    f.write(json.dumps(line) + "\\n")
"""

# `<task>-values`: argv[1] the executor input ({{$}}), argv[2] the path of its `values`
# artifact; writes the task's input parameters there as one JSON object.
VALUES_PROGRAM = """\
import json, os, sys
executor = json.loads(sys.argv[1])
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(executor.get("inputs", {}).get("parameterValues", {}), f)
"""

# argv[1] is the executor input ({{$}}): the model and data arrive as artifacts (or as URI
# parameters when the spec wrote a URI); a folder of files is read as `<folder>/*`.
MODEL_PROGRAM = """\
import json, os, sys
executor = json.loads(sys.argv[1])
given = executor.get("inputs", {})
uris = {name: listed["artifacts"][0]["uri"] for name, listed in given.get("artifacts", {}).items()}
uris.update(given.get("parameterValues", {}))
def local(uri):
    return "/gcs/" + uri[len("gs://"):] if uri.startswith("gs://") else uri
outputs = executor["outputs"]
result = {"parameterValues": {}, "artifacts": {}}
for name in outputs.get("parameters", {}):
    uri = uris[name[: -len("_uris")]]
    result["parameterValues"][name] = [uri.rstrip("/") + "/*" if os.path.isdir(local(uri)) else uri]
model = outputs["artifacts"]["container_model"]["artifacts"][0]
result["artifacts"]["container_model"] = {"artifacts": [{
    "name": model["name"],
    "uri": uris["model"],
    "metadata": {"containerSpec": {"imageUri": os.environ["PIPESPEC_SERVING_IMAGE"]}},
}]}
path = outputs["outputFile"]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w", encoding="utf-8") as f:
    json.dump(result, f)
"""

BEST_TRIAL_PROGRAM = """\
import json, os, sys, urllib.request
executor = json.loads(sys.argv[1])
params = executor["inputs"]["parameterValues"]
resources = json.loads(params["gcp_resources"])["resources"]
uri = resources[0]["resourceUri"]
META = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
def get(url, headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
        return json.loads(r.read(64 << 20))
token = get(META, {"Metadata-Flavor": "Google"})["access_token"]
job = get(uri, {"Authorization": "Bearer " + token})
metric, goal = os.environ["PIPESPEC_METRIC"], os.environ["PIPESPEC_GOAL"]
def score(trial):
    for m in trial.get("finalMeasurement", {}).get("metrics", []):
        if m.get("metricId") == metric:
            return float(m["value"])
    return None
done = [t for t in job.get("trials", []) if t.get("state") == "SUCCEEDED" and score(t) is not None]
if not done:
    sys.exit("no trial of the tuning job succeeded with metric " + metric)
pick = max if goal == "maximize" else min
best = pick(done, key=score)
base = job["trialJobSpec"]["baseOutputDirectory"]["outputUriPrefix"].rstrip("/")
trial_dir = base + "/" + best["id"]
def local(uri):
    return "/gcs/" + uri[len("gs://"):] if uri.startswith("gs://") else uri
outputs = executor["outputs"]
result = {"parameterValues": {}, "artifacts": {}}
for name in outputs.get("parameters", {}):
    if name == "best_hyperparameters":
        value = {p["parameterId"]: p["value"] for p in best.get("parameters", [])}
    else:
        with open(local(trial_dir + "/outputs/" + name), encoding="utf-8") as f:
            value = json.load(f)
    result["parameterValues"][name] = value
for name, listed in outputs.get("artifacts", {}).items():
    where = trial_dir + ("/model" if name == "model" else "/outputs/" + name)
    result["artifacts"][name] = {"artifacts": [
        {"name": listed["artifacts"][0]["name"], "uri": where, "metadata": {}}]}
path = outputs["outputFile"]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w", encoding="utf-8") as f:
    json.dump(result, f)
"""
