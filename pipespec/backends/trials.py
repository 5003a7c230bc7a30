"""How a tune step's trials are drawn, written once for every target that draws them itself
(Airflow's `<step>.trials` task, Kubeflow's `<step>-trials` helper): seeded random search,
so the same pipeline and step draw the same trials on every run and every target.

The sampler is pipespec's own code, a constant; a spec's search space, trial count and
seed reach it as arguments, never as code. This module imports nothing, so the
conformance programs can read it with ``runpy`` where pipespec is not installed.
"""

# Its docstring has double quotes: single-quoted, so the text is the code, byte for byte.
SAMPLE_TRIALS = '''\
def _sample_trials(space, count, seed):
    """`count` hyperparameter sets drawn from the search space; the seed makes it repeatable."""
    import math
    import random

    rng = random.Random(seed)
    trials = []
    for _ in range(count):
        trial = {}
        for name in sorted(space):
            dim = space[name]
            if dim["type"] == "categorical":
                trial[name] = rng.choice(dim["values"])
                continue
            low, high = dim["min"], dim["max"]
            if dim.get("scale") == "log":
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                value = rng.uniform(low, high)
            trial[name] = round(value) if dim["type"] == "int" else value
        trials.append(trial)
    return trials
'''

# Kubeflow's `<tune>-trials` helper: the sampler, then the search space, count and seed
# from the container's env (KFP passes env to the pod unchanged), the trials to argv[1].
TRIALS_PROGRAM = (
    SAMPLE_TRIALS
    + """
import json, os, sys
trials = _sample_trials(
    json.loads(os.environ["PIPESPEC_SEARCH_SPACE"]),
    int(os.environ["PIPESPEC_TRIALS"]),
    int(os.environ["PIPESPEC_SEED"]),
)
os.makedirs(os.path.dirname(sys.argv[1]) or ".", exist_ok=True)
with open(sys.argv[1], "w") as out:
    json.dump(trials, out)
"""
)
