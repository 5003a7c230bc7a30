"""examples/minimal for Vertex AI: download a CSV, count its rows (plain container tasks,
as on Kubeflow, so the Kubeflow program is the Vertex one)."""

from tests.conformance.kfp_programs.minimal import pipeline

__all__ = ["pipeline"]
