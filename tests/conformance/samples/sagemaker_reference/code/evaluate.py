"""Stand-in evaluation script: would write /opt/ml/processing/evaluation/evaluation.json."""

print("evaluate")
