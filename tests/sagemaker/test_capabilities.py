"""The SageMaker capability table says something about every language feature (a missing
row would count as unsupported), in one line a reader of `explain` can act on."""

from __future__ import annotations

from pipespec.backends.sagemaker.capabilities import CAPABILITIES
from pipespec.ir import Feature


def test_every_feature_has_a_row() -> None:
    assert set(CAPABILITIES) == set(Feature)


def test_each_row_says_how_in_one_line() -> None:
    for feature, capability in CAPABILITIES.items():
        assert capability.how and "\n" not in capability.how, feature
        assert len(capability.how) < 240, feature
