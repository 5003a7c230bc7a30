"""The compile driver names its output root through the one layout."""

from __future__ import annotations

from pipespec.backends import layout


def test_the_compile_driver_uses_the_layout() -> None:
    from pipespec import api

    assert vars(api)["output_root"] is layout.output_root
