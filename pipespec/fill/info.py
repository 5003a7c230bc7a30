"""What the fill pass decided beyond the step models it completed.

It lives in the fill room because fill produces it; the compiler's lowering reads it (the
compiler may import fill, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FillInfo:
    """What the fill pass decided, beyond the step models it completed."""

    provenance: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> field -> src
    target_images: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> target
