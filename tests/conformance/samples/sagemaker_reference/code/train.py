"""Stand-in training entry point for the framework estimator samples."""

print("train")
