"""Hand-written kfp + GCPC DSL programs of the examples (see test_vertex_equivalence.py)."""
