"""Hand-written kfp DSL programs of the examples, one per example, compiled by kfp's own
compiler in the kfp conformance venv (``tests/conformance/kfp_equivalence.py``)."""
