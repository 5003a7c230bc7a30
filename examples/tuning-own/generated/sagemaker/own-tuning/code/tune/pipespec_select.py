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
