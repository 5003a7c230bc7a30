"""Stand-in processing script: the reference programs only need a local file to upload."""

print("preprocess")
