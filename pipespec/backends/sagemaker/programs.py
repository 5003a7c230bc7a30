"""pipespec's fixed shell program on SageMaker, for images without Python: a constant of
pipespec, never built from spec text; what a spec says reaches it as arguments (data).

- ``UNPACK_SH``: extracts ``model.tar.gz`` in each given folder in place (a training job's
  model arrives packed), then replaces itself with the step's command. It needs only ``sh``
  and ``tar``, where pipespec's launcher (``launcher_program.py``) needs ``python3``: a step
  whose only need at start is a packed model runs in any image.

SageMaker bounds each ``ContainerEntrypoint`` item to 256 characters, and its pattern is
``.*``, which a line break may not match: the program is one line, well under the bound.
"""

from __future__ import annotations

MAX_ITEM = 256  # CreateProcessingJob/CreateTrainingJob: each entrypoint item and argument

# `sh -c UNPACK_SH sh N DIR1 .. DIRN COMMAND ARGS...`: $0 is "sh", $1 the folder count.
UNPACK_SH = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do tar -xzf "$1/model.tar.gz" -C "$1" || exit 1; '
    'n=$((n - 1)); shift; done; exec "$@"'
)


def unpack_entrypoint(folders: list[str]) -> list[str]:
    """The entrypoint items before the step's own argv (which follows, in the entrypoint
    or in ``ContainerArguments``) that unpack ``model.tar.gz`` in each folder first."""
    return ["sh", "-c", UNPACK_SH, "sh", str(len(folders)), *folders]
