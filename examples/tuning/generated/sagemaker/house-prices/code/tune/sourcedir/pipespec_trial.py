import json, os, subprocess, sys, tarfile


def unpack(folder):
    root = os.path.realpath(folder)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tar.gz"):
            continue
        with tarfile.open(os.path.join(folder, name)) as archive:
            for member in archive.getmembers():
                where = os.path.realpath(os.path.join(root, member.name))
                inside = os.path.commonpath([root, where]) == root
                if not inside or not (member.isfile() or member.isdir()):
                    sys.exit("pipespec: refusing " + repr(member.name) + " in " + name)
            archive.extractall(root)


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


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
