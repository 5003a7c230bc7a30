"""Durations (``1h30m``), memory quantities (``4Gi``) and CPU amounts (``500m``).

Every parser raises ValueError with a message fit to show the spec's author as is: what is
wrong and, where a likely intent can be guessed, the corrected text.
"""

from __future__ import annotations

import itertools
import math
import re
from fractions import Fraction

__all__ = [
    "MAX_CPU",
    "MAX_DURATION",
    "MAX_QUANTITY",
    "format_cpu",
    "format_duration",
    "format_quantity",
    "parse_cpu",
    "parse_duration",
    "parse_quantity",
]

# Numbers are written with ASCII digits only; re's \d would also admit '٣' and friends.
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Longer numbers are far past every cap; refusing them early keeps int() off huge strings.
_MAX_DIGITS = 30
_TOO_MANY_DIGITS = f"the number has more than {_MAX_DIGITS} digits"


def _show(value: object) -> str:
    # Echo the input, but not all of a 5000-digit one.
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _suggest(reason: str, suggestion: str | None, usage: str) -> str:
    return f"{reason}; did you mean {suggestion}?" if suggestion else f"{reason}; {usage}"


def _is_number(text: str) -> bool:
    return len(text) <= _MAX_DIGITS and _NUMBER.fullmatch(text) is not None


# --- durations --------------------------------------------------------------------------

_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = 365 * 86400
_DURATION_RE = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_DURATION_USAGE = (
    "use a whole number with a unit s, m, h or d, such as 90s or 2h "
    "(combine units largest first, as in 1h30m)"
)
# Spellings people reach for, mapped to (unit, seconds); 'w' is not a unit but 7d is.
_DURATION_ALIASES: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("s", 1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("m", 60)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("h", 3600)),
    **dict.fromkeys(("d", "day", "days"), ("d", 86400)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), ("w", 7 * 86400)),
}


def _duration_error(value: str, reason: str, suggestion: str | None = None) -> ValueError:
    return ValueError(
        f"invalid duration {_show(value)}: {_suggest(reason, suggestion, _DURATION_USAGE)}"
    )


def parse_duration(value: str) -> int:
    """Seconds in a duration such as ``90s``, ``2h`` or ``1d2h30m`` (at most 365d)."""
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic only turns ValueError into a validation error.
        raise ValueError(f"a duration is a string such as 90s or 2h, not {_show(value)}")
    match = _DURATION_RE.fullmatch(value)
    if match is None or not value:
        reason, suggestion = _diagnose_duration(value)
        raise _duration_error(value, reason, suggestion)
    numbers = match.groups()
    if any(n is not None and len(n) > _MAX_DIGITS for n in numbers):
        raise _duration_error(value, _TOO_MANY_DIGITS)
    total = sum(
        int(n) * seconds
        for n, seconds in zip(numbers, _DURATION_UNITS.values(), strict=True)
        if n is not None
    )
    if total == 0:
        raise _duration_error(value, "a duration must be longer than zero")
    if total > MAX_DURATION:
        raise _duration_error(value, "the maximum is 365d")
    return total


def _diagnose_duration(value: str) -> tuple[str, str | None]:
    """Why ``value`` is not a duration, and the duration it most likely means."""
    if not value or value.isspace():
        return "it is empty", None
    compact = "".join(value.split())
    if compact != value:
        _, suggestion = _diagnose_duration(compact)
        if suggestion is None and _is_duration(compact):
            suggestion = compact
        return "spaces are not allowed", suggestion
    if value[0] == "-":
        return "a duration must be positive", None
    if value[0] == "+":
        return "drop the '+'", value[1:] if _is_duration(value[1:]) else None
    parts = re.findall(r"([0-9.]*)([A-Za-z]*)", value)
    parts = [(number, unit) for number, unit in parts if number or unit]
    if "".join(number + unit for number, unit in parts) != value:
        bad = next(c for c in value if not (c.isascii() and (c.isalnum() or c == ".")))
        return f"unexpected character {bad!r}", None
    problems: list[str] = []
    total = Fraction(0)
    order: list[str] = []
    for number, unit in parts:
        if not number:
            return f"the unit {_show(unit)} needs a number before it", None
        if len(number) > _MAX_DIGITS:
            return _TOO_MANY_DIGITS, None
        if not _is_number(number):
            return f"{_show(number)} is not a number", None
        if not unit:
            if len(parts) > 1:
                return f"the number {number} needs a unit after it", None
            suggestion = f"{number}s" if _is_duration(f"{number}s") else None
            return "the unit is missing", suggestion
        alias = _DURATION_ALIASES.get(unit.lower())
        if alias is None:
            return f"unknown unit {_show(unit)}", None
        letter, seconds = alias
        if "." in number:
            problems.append("fractional numbers are not allowed")
        if letter == "w":
            problems.append("weeks are not a unit; write them as days")
        elif unit != letter:
            problems.append(f"write the unit {_show(unit)} as {letter!r}")
        order.append(letter)
        total += Fraction(number) * seconds
    rank = "wdhms"
    if any(rank.index(a) >= rank.index(b) for a, b in itertools.pairwise(order)):
        problems.append("each unit may appear once, largest first (d, h, m, s)")
    suggestion = None
    if total.denominator == 1 and 0 < total <= MAX_DURATION:
        suggestion = format_duration(int(total))
    return (problems[0] if problems else "not a duration"), suggestion


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def format_duration(seconds: int) -> str:
    """Canonical text for a duration: ``5400`` is ``1h30m``; the inverse of parse_duration."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"a duration is a whole number of seconds, not {_show(seconds)}")
    if not 0 < seconds <= MAX_DURATION:
        raise ValueError(f"a duration must be between 1s and 365d, not {seconds} seconds")
    out: list[str] = []
    for unit, size in _DURATION_UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


# --- memory -----------------------------------------------------------------------------

_BINARY_SUFFIXES = {"Ti": 2**40, "Gi": 2**30, "Mi": 2**20, "Ki": 2**10}
_QUANTITY_SUFFIXES = {**_BINARY_SUFFIXES, "T": 10**12, "G": 10**9, "M": 10**6, "k": 10**3}
# Backends store byte counts as signed 64-bit integers (Kubernetes does too).
MAX_QUANTITY = 2**63 - 1
_QUANTITY_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_QUANTITY_USAGE = (
    "use a number of bytes or a number with a suffix Ki, Mi, Gi, Ti (powers of 1024) "
    "or k, M, G, T (powers of 1000), such as 512Mi or 4Gi"
)


def _quantity_error(value: str, reason: str, suggestion: str | None = None) -> ValueError:
    return ValueError(
        f"invalid quantity {_show(value)}: {_suggest(reason, suggestion, _QUANTITY_USAGE)}"
    )


def parse_quantity(value: str) -> int:
    """Bytes in a Kubernetes-style quantity such as ``4Gi``, ``1.5Gi``, ``500M`` or ``1024``."""
    if not isinstance(value, str):
        raise ValueError(f"a memory quantity is a string such as 4Gi, not {_show(value)}")
    match = _QUANTITY_RE.fullmatch(value)
    if match is None:
        reason, suggestion = _diagnose_quantity(value)
        raise _quantity_error(value, reason, suggestion)
    number, suffix = match.groups()
    if len(number) > _MAX_DIGITS:
        raise _quantity_error(value, _TOO_MANY_DIGITS)
    amount = Fraction(number) * (_QUANTITY_SUFFIXES[suffix] if suffix else 1)
    if amount.denominator != 1:
        raise _quantity_error(value, f"{float(amount)} bytes is not a whole number")
    if amount == 0:
        raise _quantity_error(value, "a quantity must be more than zero")
    if amount > MAX_QUANTITY:
        raise _quantity_error(value, "it is too large")
    return int(amount)


def _diagnose_quantity(value: str) -> tuple[str, str | None]:
    if not value or value.isspace():
        return "it is empty", None
    compact = "".join(value.split())
    if compact != value:
        if _is_quantity(compact):
            return "spaces are not allowed", compact
        return "spaces are not allowed", _diagnose_quantity(compact)[1]
    if value[0] == "-":
        return "a quantity must be positive", None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]+)", value)
    if match is None:
        return "not a quantity", None
    number, unit = match.groups()
    lowered = unit.lower()
    suggestion: str | None = None
    if lowered in ("b", "byte", "bytes"):
        suggestion = number
    else:
        # 4GB, 4gb, 4gib, 4K: a binary suffix is what memory sizes usually mean.
        stem = lowered[:-1] if lowered.endswith("b") else lowered
        if len(stem) in (1, 2) and stem[0] in "kmgt" and stem[1:] in ("", "i"):
            suggestion = f"{number}{stem[0].upper()}i"
    if suggestion is not None and not _is_quantity(suggestion):
        suggestion = None
    return f"unknown suffix {_show(unit)}", suggestion


def _is_quantity(text: str) -> bool:
    try:
        parse_quantity(text)
    except ValueError:
        return False
    return True


def format_quantity(n: int) -> str:
    """Canonical text for a byte count: the largest binary suffix that divides it exactly."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"a memory quantity is a whole number of bytes, not {_show(n)}")
    if not 0 < n <= MAX_QUANTITY:
        raise ValueError(f"a memory quantity must be between 1 and {MAX_QUANTITY} bytes, not {n}")
    for suffix, size in _BINARY_SUFFIXES.items():
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


# --- cpu --------------------------------------------------------------------------------

# Kubernetes refuses CPU finer than a millicore; holding to that keeps format_cpu exact.
_MILLI = 1000
MAX_CPU = 1_000_000
_CPU_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m?)")
_CPU_USAGE = "use a number of cores such as 2 or 0.5, or millicores such as '500m'"


def _cpu_error(value: object, reason: str, suggestion: str | None = None) -> ValueError:
    return ValueError(f"invalid cpu {_show(value)}: {_suggest(reason, suggestion, _CPU_USAGE)}")


def _millicores(value: object, amount: Fraction) -> int:
    if amount <= 0:
        raise _cpu_error(value, "cpu must be more than zero")
    if amount > MAX_CPU * _MILLI:
        raise _cpu_error(value, f"cpu must be at most {MAX_CPU} cores")
    if amount.denominator != 1:
        raise _cpu_error(value, "cpu cannot be finer than 1m (0.001 cores)")
    return int(amount)


def parse_cpu(value: int | float | str) -> float:
    """Cores in ``2``, ``0.5`` or ``"500m"`` (millicores)."""
    if isinstance(value, bool):
        raise _cpu_error(value, "a boolean is not a cpu amount")
    if isinstance(value, int):
        return _millicores(value, Fraction(value) * _MILLI) / _MILLI
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _cpu_error(value, "cpu must be a finite number")
        # Before scaling: 1e308 cores in millicores overflows to inf (either sign).
        if value <= 0:
            raise _cpu_error(value, "cpu must be more than zero")
        if value > MAX_CPU:
            raise _cpu_error(value, f"cpu must be at most {MAX_CPU} cores")
        # Snap float noise (0.1 * 3) to the nearest millicore; anything further off is
        # genuinely finer than 1m.
        millis = value * _MILLI
        nearest = round(millis)
        snap = nearest != 0 and abs(nearest - millis) <= 1e-6
        amount = Fraction(nearest) if snap else Fraction(millis)
        return _millicores(value, amount) / _MILLI
    if not isinstance(value, str):
        raise _cpu_error(value, "cpu is a number or a string")
    match = _CPU_RE.fullmatch(value)
    if match is None or len(match.group(1)) > _MAX_DIGITS:
        reason, suggestion = _diagnose_cpu(value)
        raise _cpu_error(value, reason, suggestion)
    number, milli = match.groups()
    if milli and "." in number:
        raise _cpu_error(value, "millicores must be a whole number")
    amount = Fraction(number) * (1 if milli else _MILLI)
    return _millicores(value, amount) / _MILLI


def _diagnose_cpu(value: str) -> tuple[str, str | None]:
    if not value or value.isspace():
        return "it is empty", None
    compact = "".join(value.split())
    if compact != value:
        if _is_cpu(compact):
            return "spaces are not allowed", compact
        return "spaces are not allowed", _diagnose_cpu(compact)[1]
    if value[0] == "-":
        return "cpu must be more than zero", None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", value)
    if match is None:
        return "not a cpu amount", None
    number, unit = match.groups()
    if len(number) > _MAX_DIGITS:
        return _TOO_MANY_DIGITS, None
    suggestion = None
    if unit == "M":
        suggestion = f"{number}m"
    elif unit.lower() in ("c", "core", "cores", "cpu", "cpus", "vcpu", "vcpus"):
        suggestion = number
    if suggestion is not None and not _is_cpu(suggestion):
        suggestion = None
    return f"unknown suffix {_show(unit)}", suggestion


def _is_cpu(text: str) -> bool:
    try:
        parse_cpu(text)
    except ValueError:
        return False
    return True


def format_cpu(cores: float) -> str:
    """Canonical text for a cpu amount: whole cores as ``2``, anything else as ``1500m``."""
    millis = round(parse_cpu(cores) * _MILLI)
    return str(millis // _MILLI) if millis % _MILLI == 0 else f"{millis}m"
