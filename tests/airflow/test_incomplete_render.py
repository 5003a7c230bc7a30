"""render_dag never writes a DAG that refers to a task it did not make: a step without
an image or a command (compile stops it first, PS500) is an error here too."""

from __future__ import annotations

import dataclasses

from pipespec.backends.airflow.render import render_dag
from tests.airflow.helpers import example_spec, pipeline_of


def test_a_step_without_an_image_is_an_error_not_a_missing_task() -> None:
    pipeline = pipeline_of(example_spec("minimal"))
    first = dataclasses.replace(pipeline.steps[0], image=None)
    broken = dataclasses.replace(pipeline, steps=(first, *pipeline.steps[1:]))
    result = render_dag(broken)
    assert result.files == {}
    assert [d.code for d in result.diagnostics if d.severity.value == "error"] == ["PS500"]
