"""The ``when:`` expression language: tokenizer and parser (the AST is in condition_ast).

Grammar, lowest precedence first::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary)?
    primary    := "(" expr ")" | NUMBER | STRING | "true" | "false" | REF

A reference is ``params.NAME``, ``STEP.OUTPUT`` or ``STEP.OUTPUT.KEY``. Conditions are
compiled into orchestrator code, so they are parsed into an AST here and never evaluated.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass

from pipespec.spec.condition_ast import (
    COMPARISON_OPS,
    KEYWORDS,
    BoolOp,
    Compare,
    Expr,
    Literal,
    Not,
    Ref,
    condition_refs,
    format_condition,
    is_ident_char,
    is_ident_start,
    ref_problem,
    walk,
)

# The AST, printer and traversal live in condition_ast; their names are re-exported here,
# where the rest of the package (and the IR) has always imported them from.
__all__ = [
    "COMPARISON_OPS",
    "KEYWORDS",
    "MAX_DEPTH",
    "REF_HINT",
    "BoolOp",
    "Compare",
    "ConditionSyntaxError",
    "Expr",
    "Literal",
    "Not",
    "Ref",
    "condition_refs",
    "format_condition",
    "parse_condition",
    "walk",
]

REF_HINT = "references look like params.NAME or STEP.OUTPUT[.KEY]"
# Parentheses and 'not' both recurse; a bound keeps hostile input from hitting RecursionError.
MAX_DEPTH = 64

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_ESCAPE_HINT = "the only escapes are \\\\, \\', \\\", \\n and \\t"


class ConditionSyntaxError(Exception):
    """A ``when:`` condition that does not parse; ``offset`` is 0-based into the text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} (at offset {self.offset})"
        return f"{text}; {self.hint}" if self.hint else text


# --- tokenizer --------------------------------------------------------------------------


def _is_digit(ch: str) -> bool:
    # str.isdigit() accepts '²' and other non-ASCII digits, which float() would choke on.
    return "0" <= ch <= "9"


TokenKind = typing.Literal["num", "str", "ref", "kw", "op", "(", ")", "eof"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str  # source text, for messages
    offset: int
    value: bool | int | float | str | tuple[str, ...] | None = None


# Operators people bring from other languages, with what to write instead.
_FOREIGN_OPERATORS = {
    "&&": "use 'and'",
    "||": "use 'or'",
    "&": "use 'and'",
    "|": "use 'or'",
    "=>": "use '>='",
    "=<": "use '<='",
    "<>": "use '!='",
    "!": "use 'not'",
    "=": "use '==' to compare",
}


class _Lexer:
    """Produces tokens on demand, so errors surface in source order alongside parse errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek_char(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.text[i] if i < len(self.text) else ""

    def next_token(self) -> _Token:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return _Token("eof", "end of condition", start)
        ch = text[start]
        two = text[start : start + 2]
        if two in ("&&", "||", "=>", "=<", "<>"):
            raise ConditionSyntaxError(f"unexpected {two!r}", start, _FOREIGN_OPERATORS[two])
        if two in ("==", "!=", "<=", ">="):
            self.pos += 2
            return _Token("op", two, start)
        if ch in "<>":
            self.pos += 1
            return _Token("op", ch, start)
        if ch in "&|!=":
            raise ConditionSyntaxError(f"unexpected {ch!r}", start, _FOREIGN_OPERATORS[ch])
        if ch in "()":
            self.pos += 1
            return _Token("(" if ch == "(" else ")", ch, start)
        if ch in "'\"":
            return self._string()
        if _is_digit(ch) or (ch == "-" and _is_digit(self._peek_char(1))):
            return self._number()
        if ch == "." and _is_digit(self._peek_char(1)):
            raise ConditionSyntaxError(
                "a number must start with a digit", start, "write 0.5 rather than .5"
            )
        if ch == "-":
            raise ConditionSyntaxError(
                "unexpected '-'",
                start,
                "there is no arithmetic; '-' may only start a number such as -2",
            )
        if ch in "+*/%":
            raise ConditionSyntaxError(
                f"unexpected {ch!r}", start, "conditions have no arithmetic operators"
            )
        if is_ident_start(ch):
            return self._reference()
        raise ConditionSyntaxError(f"unexpected character {ch!r}", start)

    def _string(self) -> _Token:
        text = self.text
        start = self.pos
        quote = text[start]
        chars: list[str] = []
        i = start + 1
        while True:
            if i >= len(text):
                raise ConditionSyntaxError(
                    "unterminated string", start, f"close it with a matching {quote}"
                )
            ch = text[i]
            if ch == quote:
                break
            if ch == "\\":
                if i + 1 >= len(text):
                    raise ConditionSyntaxError(
                        "unterminated string", start, f"close it with a matching {quote}"
                    )
                escaped = _ESCAPES.get(text[i + 1])
                if escaped is None:
                    raise ConditionSyntaxError(
                        f"invalid escape sequence {text[i : i + 2]!r}", i, _ESCAPE_HINT
                    )
                chars.append(escaped)
                i += 2
                continue
            chars.append(ch)
            i += 1
        self.pos = i + 1
        return _Token("str", text[start : self.pos], start, "".join(chars))

    def _number(self) -> _Token:
        text = self.text
        start = self.pos
        i = start + 1 if text[start] == "-" else start
        is_float = False

        def digits(i: int, what: str) -> int:
            if i >= len(text) or not _is_digit(text[i]):
                raise ConditionSyntaxError(f"expected a digit {what}", i)
            while i < len(text) and _is_digit(text[i]):
                i += 1
            return i

        i = digits(i, "after '-'")
        if i < len(text) and text[i] == ".":
            is_float = True
            i = digits(i + 1, "after '.'")
        if i < len(text) and text[i] in "eE":
            is_float = True
            i += 1
            if i < len(text) and text[i] in "+-":
                i += 1
            i = digits(i, "in the exponent")
        # '3abc' or '1.2.3' is a malformed number, not a number followed by something else.
        if i < len(text) and (is_ident_char(text[i]) or text[i] == "."):
            raise ConditionSyntaxError(f"unexpected {text[i]!r} after a number", i)
        source = text[start:i]
        value: int | float
        if is_float:
            value = float(source)
            if not math.isfinite(value):
                raise ConditionSyntaxError("number is out of range", start)
        else:
            try:
                value = int(source)
            except ValueError:  # more digits than int() will convert
                raise ConditionSyntaxError("number is too long", start) from None
        self.pos = i
        return _Token("num", source, start, value)

    def _reference(self) -> _Token:
        text = self.text
        start = self.pos
        parts: list[str] = []
        i = start
        while True:
            seg_start = i
            i += 1
            while i < len(text) and is_ident_char(text[i]):
                i += 1
            parts.append(text[seg_start:i])
            if i < len(text) and text[i] == ".":
                if i + 1 < len(text) and is_ident_start(text[i + 1]):
                    i += 1
                    continue
                raise ConditionSyntaxError("expected a name after '.'", i + 1, REF_HINT)
            break
        self.pos = i
        if len(parts) == 1 and parts[0] in KEYWORDS:
            return _Token("kw", parts[0], start, parts[0])
        return _Token("ref", text[start:i], start, tuple(parts))


# --- parser -----------------------------------------------------------------------------


def _describe(tok: _Token) -> str:
    return "the end of the condition" if tok.kind == "eof" else repr(tok.text)


def _keyword_hint(tok: _Token) -> str | None:
    # 'AND', 'True' and friends: keywords are lower case.
    if tok.kind == "ref" and tok.text.lower() in KEYWORDS and tok.text not in KEYWORDS:
        return f"use {tok.text.lower()!r}"
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.tok = self.lexer.next_token()
        self.depth = 0

    def advance(self) -> _Token:
        tok = self.tok
        self.tok = self.lexer.next_token()
        return tok

    def at_keyword(self, word: str) -> bool:
        return self.tok.kind == "kw" and self.tok.value == word

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionSyntaxError(
                f"condition is nested too deeply (more than {MAX_DEPTH} levels)", offset
            )

    def parse(self) -> Expr:
        if self.tok.kind == "eof":
            raise ConditionSyntaxError("empty condition", 0, "write e.g. check.passed == true")
        expr = self.parse_or()
        tok = self.tok
        if tok.kind != "eof":
            if tok.kind == ")":
                raise ConditionSyntaxError("unmatched ')'", tok.offset)
            hint = _keyword_hint(tok)
            starts_value = tok.kind in ("num", "str", "ref", "(") or (
                tok.kind == "kw" and tok.value in ("not", "true", "false")
            )
            if hint is None and starts_value:
                hint = "join conditions with 'and' or 'or'"
            raise ConditionSyntaxError(f"unexpected {_describe(tok)}", tok.offset, hint)
        return expr

    def parse_bool(self, op: typing.Literal["and", "or"]) -> Expr:
        start = self.tok.offset
        sub = self.parse_and if op == "or" else self.parse_not
        operands = [sub()]
        while self.at_keyword(op):
            self.advance()
            operands.append(sub())
        # Only an unparenthesised chain is flattened, so the AST keeps the source's grouping.
        return operands[0] if len(operands) == 1 else BoolOp(op, tuple(operands), start)

    def parse_or(self) -> Expr:
        return self.parse_bool("or")

    def parse_and(self) -> Expr:
        return self.parse_bool("and")

    def parse_not(self) -> Expr:
        if not self.at_keyword("not"):
            return self.parse_comparison()
        start = self.advance().offset
        self.enter(start)
        operand = self.parse_not()
        self.depth -= 1
        return Not(operand, start)

    def parse_comparison(self) -> Expr:
        start = self.tok.offset
        left = self.parse_primary()
        if self.tok.kind != "op":
            return left
        op = self.advance().text
        right = self.parse_primary()
        if self.tok.kind == "op":
            raise ConditionSyntaxError(
                "comparisons cannot be chained",
                self.tok.offset,
                "combine them with 'and', e.g. a.x < b.y and b.y < c.z",
            )
        return Compare(op, left, right, start)

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "(":
            self.advance()
            self.enter(tok.offset)
            expr = self.parse_or()
            self.depth -= 1
            if self.tok.kind != ")":
                raise ConditionSyntaxError(
                    f"expected ')' to close the '(' at offset {tok.offset}, "
                    f"found {_describe(self.tok)}",
                    self.tok.offset,
                )
            self.advance()
            return expr
        if tok.kind in ("num", "str"):
            assert isinstance(tok.value, (int, float, str))
            self.advance()
            return Literal(tok.value, tok.offset)
        if tok.kind == "kw" and tok.value in ("true", "false"):
            self.advance()
            return Literal(tok.value == "true", tok.offset)
        if tok.kind == "ref":
            assert isinstance(tok.value, tuple)
            self._check_ref(tok, tok.value)
            self.advance()
            return Ref(tok.value, tok.offset)
        if tok.kind == "eof":
            raise ConditionSyntaxError("unexpected end of condition; expected a value", tok.offset)
        hint = None
        if tok.kind == "kw" and tok.value == "not":
            hint = "put 'not' expressions in parentheses inside a comparison"
        raise ConditionSyntaxError(f"expected a value, found {_describe(tok)}", tok.offset, hint)

    @staticmethod
    def _check_ref(tok: _Token, parts: tuple[str, ...]) -> None:
        if len(parts) == 1:
            hint = _keyword_hint(tok)
            if hint is not None:
                raise ConditionSyntaxError(f"unexpected {tok.text!r}", tok.offset, hint)
            raise ConditionSyntaxError(f"incomplete reference {tok.text!r}", tok.offset, REF_HINT)
        problem = ref_problem(parts)
        if problem is not None:
            raise ConditionSyntaxError(problem, tok.offset, REF_HINT)


def parse_condition(text: str) -> Expr:
    """Parse a ``when:`` condition; raises ConditionSyntaxError with an exact offset."""
    return _Parser(text).parse()
