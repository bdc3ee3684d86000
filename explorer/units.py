"""One way to write numbers and sizes, for the UI, the CLI and generated sentences.

Numbers: three significant digits from 0.001 to 9999 (``0.0123``, ``6230``), and scientific
notation with superscripts outside that range (``1.6×10¹¹``, ``3.1×10⁻⁵``). Counts of things
(parameters, mult-adds) use SI prefixes instead (``25.56 M``).

Sizes: decimal SI units, 1 kB = 1000 B and 1 MB = 10⁶ B, because that is what the browser's upload
widget shows on Linux and macOS (and what disks and downloads say). A limit of "20 MB" therefore
means 20,000,000 bytes wherever this module writes it.
"""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
BYTE_UNITS = ("B", "kB", "MB", "GB", "TB")
MB = 10**6


def format_number(x: float, digits: int = 3) -> str:
    """``0.0123`` / ``6230`` / ``1.6×10¹¹`` / ``3.1×10⁻⁵``; ``∞`` and ``not a number`` as words."""
    if math.isnan(x):
        return "not a number"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:  # fixed point: Python's "g" would write 6230 as 6.23e+03
        decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
        text = f"{x:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{x:.{max(digits - 2, 0)}e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def format_bytes(n: float) -> str:
    """``1500`` → ``1.5 kB``; ``27_021_081`` → ``27.0 MB`` (decimal units, see the module doc)."""
    for unit in BYTE_UNITS[:-1]:
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} {BYTE_UNITS[-1]}"


def format_megabytes(n: float) -> str:
    """A limit in whole megabytes: ``20_000_000`` → ``20 MB``."""
    return f"{n / MB:.0f} MB"


def format_count(n: float) -> str:
    """``25_557_032`` → ``25.56 M``; ``4.1e9`` → ``4.09 G``."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f}"


def pct(x: float) -> str:
    """One unit for accuracy everywhere: percent with one decimal."""
    return f"{100 * x:.1f} %"


def format_probability(p: float) -> str:
    """A probability as a percentage that never rounds to a certainty it is not: ``99.97 %``
    (not 100 %), ``< 0.01 %`` (not 0 %), ``42.3 %``."""
    if p >= 1:
        return "100 %"
    if p <= 0:
        return "0 %"
    if p < 1e-4:
        return "< 0.01 %"
    for decimals in range(1, 7):  # as many digits as it takes to stay off 0 % and 100 %
        text = f"{100 * p:.{decimals}f}"
        if 0 < float(text) < 100:
            return f"{text} %"
    return f"{100 * p:.6f} %"


def format_duration(seconds: float) -> str:
    """``42 s`` under a minute and a half, whole minutes beyond (estimates, not timings)."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 class``, ``5 classes``: a count and its noun in agreement."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def times(ratio: float, margin: float = 1.1) -> str:
    """How a ratio reads in a sentence: ``83 times``, ``1/83 of``, ``6.2×10⁻⁶ times``, or
    ``about the same as`` (within ``margin`` either way)."""
    if not math.isfinite(ratio) or ratio <= 0:
        return f"{format_number(ratio)} times"
    if 1 / margin < ratio < margin:
        return "about the same as"
    if ratio >= 1 or ratio < 1e-4:  # "1/1.6×10⁵ of" would read as a puzzle
        return f"{format_number(ratio)} times"
    return f"1/{format_number(1 / ratio)} of"


def change(ratio: float, margin: float = 1.1) -> str:
    """A before/after ratio in words: ``grew 12-fold``, ``fell by 30 %``, ``stayed within 10 %``.

    Within ``margin`` either way (1.1: ten per cent) the change is called no change; changes of
    at least two-fold are said as folds, smaller ones in per cent.
    """
    if not math.isfinite(ratio) or ratio <= 0:
        return f"changed by a factor of {format_number(ratio)}"
    if ratio >= 2:
        return f"grew {format_number(ratio)}-fold"
    if ratio <= 0.5:
        return f"fell {format_number(1 / ratio)}-fold"
    if ratio >= margin:
        return f"grew by {round((ratio - 1) * 100)} %"
    if ratio <= 1 / margin:
        return f"fell by {round((1 - ratio) * 100)} %"
    return f"stayed within {round((margin - 1) * 100)} %"
