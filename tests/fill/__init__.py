"""Tests of the fill pass."""
