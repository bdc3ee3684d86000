"""One number format and one unit convention (decimal SI bytes, as the browser's uploader shows)."""

import math

import pytest

from explorer.units import (change, format_bytes, format_count, format_megabytes, format_number,
                            format_probability,
                           plural, times)

_NORMAL = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def parse(text: str) -> float:
    """Read format_number's output back with Python's own float parser."""
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return float(f"{mantissa}e{exponent.translate(_NORMAL)}")
    return float(text)


@pytest.mark.parametrize("x", [1.6e11, 6.23e3, 0.0123, 1.2e-2, 3.14159e-5, -4.2e7, 1.0, 999.9,
                               9999.0, 10_000.0, 0.001, 0.000999])
def test_format_number_reads_back_within_its_precision(x):
    text = format_number(x)
    assert "e+" not in text and "e-" not in text and "^" not in text
    assert math.isclose(parse(text), x, rel_tol=0.05 if "×10" in text else 0.005)


def test_format_number_by_hand():
    assert format_number(1.6e11) == "1.6×10¹¹"
    assert format_number(6230.4) == "6230"
    assert format_number(3.1e-5) == "3.1×10⁻⁵"
    assert format_number(0.0123) == "0.0123"
    assert format_number(0) == "0"
    assert format_number(math.inf) == "∞" and format_number(math.nan) == "not a number"


def test_bytes_are_decimal_like_the_browsers_upload_chip():
    # Streamlit's uploader shows a 27,021,081-byte file as "27.0MB" (base 1000 off Windows).
    assert format_bytes(27_021_081) == "27.0 MB"
    assert format_bytes(999) == "999 B"
    assert format_bytes(1500) == "1.5 kB"
    assert format_bytes(46_800_000_000) == "46.8 GB"
    assert format_bytes(2 * 10**15) == "2000.0 TB"
    assert format_megabytes(20 * 10**6) == "20 MB"


def test_counts_use_si_prefixes():
    assert format_count(25_557_032) == "25.56 M"
    assert format_count(4.1e9) == "4.10 G"
    assert format_count(999) == "999"


def test_plural_agrees_with_the_count():
    assert plural(1, "class", "classes") == "1 class"
    assert plural(5, "class", "classes") == "5 classes"
    assert plural(1000, "block") == "1,000 blocks"


@pytest.mark.parametrize("ratio, words", [
    (83.0, "grew 83-fold"),
    (1 / 83, "fell 83-fold"),
    (1.3, "grew by 30 %"),
    (0.7, "fell by 30 %"),
    (1.05, "stayed within 10 %"),
    (0.95, "stayed within 10 %"),
    (2.0, "grew 2-fold"),
    (0.5, "fell 2-fold"),
    (0.0, "changed by a factor of 0"),
])
def test_change_names_the_direction_with_a_margin(ratio, words):
    assert change(ratio) == words


def test_times_never_says_a_fraction_of_times():
    assert times(4.2e4) == "4.2×10⁴ times"
    assert times(0.0025) == "1/400 of"
    assert times(6.2e-6) == "6.2×10⁻⁶ times"
    assert times(1.05) == "about the same as" and times(0.95) == "about the same as"
    assert times(1.2) == "1.2 times"


@pytest.mark.parametrize("p, text", [(0.9997, "99.97 %"), (0.99996, "99.996 %"),
                                     (0.00003, "< 0.01 %"), (0.0004, "0.04 %"),
                                     (0.4231, "42.3 %"), (1.0, "100 %"), (0.0, "0 %")])
def test_probabilities_never_round_to_a_certainty(p, text):
    assert format_probability(p) == text
