"""The KFP IR builder shared by the targets that run KFP pipelines (Kubeflow Pipelines,
Vertex AI Pipelines): a pipeline as a PipelineSpec, built as data, with no kfp import.

``pipeline.build_pipeline`` places every step in its groups (``placement``: dsl.If,
dsl.If/Else, dsl.ParallelFor as kfp compiles them), builds each step's tasks (``tasks``,
``steps``) and wires values between groups (``wiring``); what differs between engines is
a ``flavour.Flavour`` the target passes in.
"""
