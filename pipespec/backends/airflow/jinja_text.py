"""Strings for Airflow's templated fields.

Airflow renders every string in an operator's ``template_fields`` with its Jinja environment
(StrictUndefined, and Jinja's defaults: line endings normalised to ``\\n``, one trailing
newline dropped). A user's literal text must reach the task exactly as written, so:

- every ``{`` that could open a Jinja delimiter (``{{``, ``{%``, ``{#``, or a ``{`` right
  before one of our own expressions) is emitted as the expression ``{{ '{' }}``;
- every carriage return is emitted as ``{{ '\\r' }}`` (the lexer would turn ``\\r\\n`` into
  ``\\n``), and a final newline as ``{{ '\\n' }}`` (the lexer would drop it).

Placeholders become Jinja expressions that pipespec writes itself, from validated names.
The generated DAG file repeats this escaping at run time for mapped items (``_fill_item``).
"""

from __future__ import annotations

import re

# One pass over the text: a '{' that a delimiter could follow ('{', '%', '#', a carriage
# return, which becomes an expression, or the end: the next part may start with '{{'), or a
# carriage return.
_SPECIAL = re.compile(r"\{(?=[{%#\r]|$)|\r")
OPEN_BRACE = "{{ '{' }}"
CARRIAGE_RETURN = "{{ '\\r' }}"
FINAL_NEWLINE = "{{ '\\n' }}"


def escape_literal(text: str) -> str:
    """User text, escaped so that Jinja renders it back unchanged (within a string)."""
    return _SPECIAL.sub(lambda m: OPEN_BRACE if m.group() == "{" else CARRIAGE_RETURN, text)


def keep_final_newline(rendered: str) -> str:
    """Protect the last newline of a whole templated string from Jinja's trimming."""
    if rendered.endswith("\n"):
        return rendered[:-1] + FINAL_NEWLINE
    return rendered
