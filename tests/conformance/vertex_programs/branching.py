"""examples/branching for Vertex AI: plain container tasks, a quality gate with an else
branch, a join of whichever branch ran (dsl.OneOf) and the fail helper, exactly as a user
writes it for Kubeflow, so the Kubeflow program is the Vertex one."""

from tests.conformance.kfp_programs.branching import pipeline

__all__ = ["pipeline"]
