"""Check a SageMaker pipeline definition (JSON, ``"Version": "2020-12-01"``) with the pinned
botocore and AWS's published schema; report, as JSON, what was found and every problem.

Runs in the ``sagemaker`` conformance venv (``locks/sagemaker.txt``), never in pipespec's
environment, as a module with the repository root on ``PYTHONPATH`` (``sagemaker_runner.py``
does that)::

    python -m tests.conformance.sagemaker_probe DEFINITION.json     # one JSON report
    python -m tests.conformance.sagemaker_probe --many < [PATH, ...]  # {PATH: report}
    python -m tests.conformance.sagemaker_probe --build OUTDIR SAMPLE.py ...  # build each
            # sample's pipeline offline with the SDK to OUTDIR/<stem>.json (sagemaker_offline)
    python -m tests.conformance.sagemaker_probe --corrections DEFINITION.json ...
            # per schema correction: does some definition need it?

A report is ``{"problems": [...], "steps": {name: type}, "size": chars, "max_size": chars}``:

* the schema (``sagemaker_probe_schema``: AWS's, with its listed corrections);
* each step's ``Arguments`` against the request shape of the API its type calls, and each
  ``Get`` of ``Steps.<name>.<path>`` against the step type's Describe* response
  (``sagemaker_probe_shapes``); ``PropertyFiles.<name>`` must be a property file the step
  declares, a Condition step has only ``Outcome``;
* every ``Parameters.<name>`` is declared, every ``Execution.<name>`` is an execution
  variable; step names are unique, ``DependsOn`` names existing steps, and the steps'
  dependencies (``DependsOn``, ``Get``, a condition's branches) have no cycle;
* the definition's text fits CreatePipeline's ``PipelineDefinition`` (its ``max`` length in
  botocore's model).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.conformance.sagemaker_probe_schema import corrections_needed, schema_problems
from tests.conformance.sagemaker_probe_shapes import (
    API,
    PROPERTIES,
    arguments_problems,
    property_path_problem,
    service_model,
)

Json = Any
# sagemaker.workflow.execution_variables.ExecutionVariables (2.257).
EXECUTION_VARIABLES = frozenset(
    {
        "StartDateTime",
        "CurrentDateTime",
        "PipelineName",
        "PipelineArn",
        "PipelineExecutionId",
        "PipelineExecutionArn",
        "TrainingJobName",
        "ProcessingJobName",
    }
)


def all_steps(steps: Json, parent: str | None = None) -> Iterator[tuple[Json, str | None]]:
    """Every step, with the Condition step whose branch holds it (None at the top)."""
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        yield step, parent
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            for branch in ("IfSteps", "ElseSteps"):
                yield from all_steps(arguments.get(branch), step.get("Name"))


def gets(value: Json) -> Iterator[str]:
    """Every ``{"Get": PATH}`` in a value, however deep (inside Join and JsonGet too)."""
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"]
            return
        for item in value.values():
            yield from gets(item)
    elif isinstance(value, list):
        for item in value:
            yield from gets(item)


def _own_values(step: Json) -> Json:
    """A step without its condition branches (those steps are checked as themselves)."""
    if step.get("Type") != "Condition":
        return step
    arguments = {
        k: v for k, v in (step.get("Arguments") or {}).items() if k not in ("IfSteps", "ElseSteps")
    }
    return {**step, "Arguments": arguments}


class Probe:
    def __init__(self, definition: Json) -> None:
        self.definition = definition
        self.problems: list[str] = []
        pairs = list(all_steps(definition.get("Steps")))
        self.steps: dict[str, Json] = {}
        self.edges: dict[str, set[str]] = {}
        for step, parent in pairs:
            name = step.get("Name")
            if not isinstance(name, str):
                continue  # the schema reports it
            if name in self.steps:
                self.problems.append(f"step '{name}': the name is used twice")
            self.steps[name] = step
            self.edges.setdefault(name, set()).update([parent] if parent else [])
        self.parameters = {
            p.get("Name") for p in definition.get("Parameters") or [] if isinstance(p, dict)
        }

    def run(self) -> list[str]:
        self.problems += schema_problems(self.definition)
        for name, step in self.steps.items():
            where = f"step '{name}' ({step.get('Type')})"
            if step.get("Type") in API and "Arguments" in step:
                self.problems += arguments_problems(where, step["Type"], step["Arguments"])
            self._depends_on(name, where, step)
            for path in gets(_own_values(step)):
                self._get(name, where, path)
        for path in gets({k: v for k, v in self.definition.items() if k != "Steps"}):
            self._get(None, "pipeline", path)
        self.problems += cycle_problems(self.edges)
        return self.problems

    def _depends_on(self, name: str, where: str, step: Json) -> None:
        for other in step.get("DependsOn") or []:
            if other not in self.steps:
                self.problems.append(f"{where}: DependsOn '{other}', which is no step")
            else:
                self.edges[name].add(other)

    def _get(self, name: str | None, where: str, path: str) -> None:
        root, _, rest = path.partition(".")
        if root == "Parameters":
            if rest not in self.parameters:
                self.problems.append(f"{where}: Get '{path}': no parameter '{rest}' is declared")
        elif root == "Execution":
            if rest not in EXECUTION_VARIABLES:
                self.problems.append(f"{where}: Get '{path}': '{rest}' is no execution variable")
        elif root == "Steps":
            self._step_property(name, where, path, rest)
        else:
            self.problems.append(f"{where}: Get '{path}': unknown root '{root}'")

    def _step_property(self, name: str | None, where: str, path: str, rest: str) -> None:
        other, _, prop = rest.partition(".")
        if other not in self.steps:
            self.problems.append(f"{where}: Get '{path}': no step '{other}'")
            return
        if name is not None:
            self.edges[name].add(other)
        step_type = self.steps[other].get("Type")
        reason = None
        if prop.startswith("PropertyFiles."):
            files = {f.get("PropertyFileName") for f in self.steps[other].get("PropertyFiles", [])}
            if prop.partition(".")[2] not in files:
                reason = f"step '{other}' declares no property file '{prop.partition('.')[2]}'"
        elif step_type == "Condition":
            reason = None if prop == "Outcome" else "a Condition step has only 'Outcome'"
        elif step_type in PROPERTIES:
            reason = property_path_problem(step_type, prop)
        if reason:
            self.problems.append(f"{where}: Get '{path}': {reason}")


def cycle_problems(edges: dict[str, set[str]]) -> list[str]:
    """One problem per cycle found by depth-first search (step -> the steps it needs)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    problems = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt]
                problems.append("dependency cycle: " + " -> ".join(loop))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return problems


def probe_text(text: str) -> dict[str, Any]:
    limit = service_model().operation_model("CreatePipeline").input_shape.members
    max_size = int(limit["PipelineDefinition"].metadata["max"])
    report: dict[str, Any] = {"problems": [], "steps": {}, "size": len(text), "max_size": max_size}
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        report["problems"].append(f"not JSON: {exc}")
        return report
    if not isinstance(definition, dict):
        report["problems"].append("the definition is not a JSON object")
        return report
    probe = Probe(definition)
    report["problems"] = probe.run()
    report["steps"] = {name: step.get("Type") for name, step in probe.steps.items()}
    if len(text) > max_size:
        report["problems"].append(
            f"the definition is {len(text)} characters, more than CreatePipeline's {max_size}"
        )
    return report


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--build"]:
        from tests.conformance.sagemaker_offline import build_samples

        written = build_samples(Path(argv[1]), [Path(p) for p in argv[2:]])
        print(json.dumps(written))
    elif argv[:1] == ["--corrections"]:
        texts = [Path(p).read_text(encoding="utf-8") for p in argv[1:]]
        print(json.dumps(corrections_needed([json.loads(t) for t in texts])))
    elif argv[:1] == ["--many"]:
        paths = json.loads(sys.stdin.read())
        print(json.dumps({p: probe_text(Path(p).read_text(encoding="utf-8")) for p in paths}))
    elif len(argv) == 1:
        print(json.dumps(probe_text(Path(argv[0]).read_text(encoding="utf-8"))))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
