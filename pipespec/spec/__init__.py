"""The spec language: loading, models, expressions."""
