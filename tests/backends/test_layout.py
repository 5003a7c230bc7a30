"""The output layout, defined once: generated/<target>/<pipeline name>.<ext>."""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from pipespec.backends import layout


def test_the_root_is_generated_beside_the_spec_unless_out_is_given() -> None:
    spec = Path("examples/churn/pipeline.yaml")
    assert layout.output_root(spec, None) == Path("examples/churn/generated")
    assert layout.output_root(spec, Path("build/out")) == Path("build/out")


def test_files_are_named_by_target_and_pipeline() -> None:
    assert layout.output_path("airflow", "churn", "py") == "airflow/churn.py"
    assert layout.output_path("kubeflow", "churn", ".yaml") == "kubeflow/churn.yaml"
    assert layout.output_stem("sagemaker", "churn") == "sagemaker/churn"
    assert layout.output_path("sagemaker", "churn", "json").startswith(
        layout.output_stem("sagemaker", "churn")
    )


segment = st.sampled_from(["a", "b", "examples", "churn", "x-y"])


@given(
    st.lists(segment, max_size=3),  # where the output root is, relative to the spec's folder
    st.lists(segment, min_size=1, max_size=3),  # the generated file, below the root
)
def test_a_generated_file_finds_its_spec(root_parts: list[str], file_parts: list[str]) -> None:
    """The spec path a generated file names, joined to the file's folder, is the spec."""
    spec = PurePosixPath("/w/project/pipeline.yaml")
    root = PurePosixPath("/w/project", *root_parts)
    source_file = posixpath.relpath(spec, root)  # what the driver stores in the IR
    path = "/".join(file_parts) + ".py"
    rel = layout.spec_relative_to(path, source_file)
    found = posixpath.normpath(posixpath.join(root / path, "..", rel))
    assert found == str(spec)
