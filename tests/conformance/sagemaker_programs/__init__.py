"""Hand-written sagemaker SDK programs, one per example (see ``sagemaker_equivalence``)."""
