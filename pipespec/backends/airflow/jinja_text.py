"""Strings for Airflow's templated fields.

Airflow renders every string in an operator's ``template_fields`` with Jinja, and treats a
string ending in one of the operator's ``template_ext`` as the path of a template file to
load. A user's literal text must reach the task verbatim, so:

- every ``{`` that could open a Jinja delimiter (``{{``, ``{%``, ``{#``, or a ``{`` right
  before one of our own expressions) is emitted as the expression ``{{ '{' }}``;
- a string that would end in a template extension is closed by an empty expression
  ``{{ '' }}``, so its raw text no longer ends in the extension, while it renders the same.

Placeholders become Jinja expressions that pipespec writes itself, from validated names.
"""

from __future__ import annotations

import re

# '{' followed by '{', '%' or '#', or '{' at the very end (the next part may start with '{{').
_OPENER = re.compile(r"\{(?=[{%#]|$)")
OPEN_BRACE = "{{ '{' }}"
END_GUARD = "{{ '' }}"


def escape_literal(text: str) -> str:
    return _OPENER.sub(lambda _: OPEN_BRACE, text)


def guard_extension(rendered: str, template_ext: tuple[str, ...]) -> str:
    if template_ext and rendered.endswith(template_ext):
        return rendered + END_GUARD
    return rendered
