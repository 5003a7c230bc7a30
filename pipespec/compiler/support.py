"""Images past their publisher's end of support (PS616), and the date a run calls today.

The catalog's `vertex_images` table holds the end of patches and support of each prebuilt
image it names (Vertex's support tables). A step whose image is past that date still
compiles: the image keeps running until its end of availability, but it gets no more
security fixes, so the user hears of it at `compile` and `check`. The check is keyed by the
image, not by the target, so it holds for every backend and for images written by hand.

"Today" is ``PIPESPEC_TODAY`` (an ISO date) when set, so tests and CI runs can pin it and
get the same diagnostics every day; else the machine's date. A value that is not a date is
an environment error (PS617, exit 2), like an invalid ``PIPESPEC_MAX_SPEC_BYTES``: falling
back to the real date would hide a typo in a pinned CI run until the day the output changes.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator, Mapping

from pipespec import ir
from pipespec.diagnostics import Diagnostic, Severity, Span
from pipespec.fill.catalog import Catalog, load_catalog

__all__ = ["TODAY_ENV", "image_support", "run_date"]

TODAY_ENV = "PIPESPEC_TODAY"


def run_date(environ: Mapping[str, str] | None = None) -> datetime.date | Diagnostic:
    """``PIPESPEC_TODAY`` as a date, the machine's date when it is unset or empty, or the
    PS617 error for a value that is not an ISO date (YYYY-MM-DD)."""
    value = (os.environ if environ is None else environ).get(TODAY_ENV, "").strip()
    if not value:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return Diagnostic(
            "PS617",
            f"{TODAY_ENV}={value!r} is not a date",
            None,
            f"write it as YYYY-MM-DD (e.g. {TODAY_ENV}=2026-01-31), or unset it to use "
            "today's date",
        )


def image_support(
    pipeline: ir.Pipeline,
    target: str,
    today: datetime.date,
    catalog: Catalog | None = None,
) -> list[Diagnostic]:
    """A PS616 warning at each step for each image it uses for ``target`` (its own, the
    catalog's for the target, and the image serving its model) whose end of support is
    before ``today``. Images the catalog has no date for never warn."""
    catalog = catalog or load_catalog()
    found: list[Diagnostic] = []
    for step in pipeline.steps:
        for image in _images(step, target):
            ended = catalog.image_end_of_support(image)
            if ended is not None and ended < today:
                found.append(_past(catalog, image, ended, today, step.span))
    return found


def _images(step: ir.Step, target: str) -> Iterator[str]:
    """The step's images for ``target``, each once, in a fixed order."""
    seen: set[str] = set()
    images = (
        step.image,
        step.target_images.get(target),
        step.serving_images.get(target),  # the catalog's, for targets that serve models
        step.details.get("serving_image"),  # the spec's, on a target that records it
    )
    for image in images:
        if isinstance(image, str) and image not in seen:
            seen.add(image)
            yield image


def _past(
    catalog: Catalog, image: str, ended: datetime.date, today: datetime.date, span: Span
) -> Diagnostic:
    message = (
        f"image {image} reached its end of support on {ended.isoformat()} "
        "(Vertex AI framework support policy)"
    )
    gone = catalog.image_end_of_availability(image)
    if gone is not None:
        tense = "was" if gone < today else "is"
        message += f"; its end of availability {tense} {gone.isoformat()}"
    newer = catalog.newer_image(image)
    hint = (
        f"use the newer {newer}"
        if newer is not None
        else "pin a supported image in `image:` (the catalog knows no newer one)"
    )
    return Diagnostic("PS616", message, span, hint, Severity.WARNING)
