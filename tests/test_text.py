"""text.py: cuts at word boundaries with an ellipsis, short escaped excerpts of foreign values."""

from __future__ import annotations

import pytest

from indi_seestar.indi import encode
from indi_seestar.indi.model import NumberMember
from indi_seestar.text import excerpt, shorten

KEY_ERROR = ("Valid PEM but no BEGIN/END delimiters for a private key found. "
             "Are you sure this is a private key?")


def test_shorten_keeps_what_fits_and_cuts_at_a_word_with_an_ellipsis():
    assert shorten(KEY_ERROR, len(KEY_ERROR)) == KEY_ERROR
    cut = shorten(KEY_ERROR, 80)
    assert cut == "Valid PEM but no BEGIN/END delimiters for a private key found. Are you sure..."
    assert len(cut) <= 80
    assert shorten("x" * 100, 10) == "xxxxxxx..."  # no space to cut at: cut at the limit


def test_excerpt_is_short_quoted_and_escaped_with_the_length():
    assert excerpt("twelve hundred") == "'twelve hundred'"
    assert excerpt("a\x00b\nc") == "'a\\x00b\\nc'"
    long = excerpt("y" * 1_000_000)
    assert long == f"'{'y' * 32}'... (1000000 characters)"


@pytest.mark.parametrize(("fmt", "integral"), [
    ("%d", True), ("%5d", True), ("%.f", True), ("%.0f", True), ("%4.0f", True), ("%2.0f", True),
    ("%g", False), ("%f", False), ("%5.2f", False), ("%.1f", False), ("%010.6m", False),
    ("%012.8m", False),
])
def test_a_number_is_integral_when_its_format_shows_no_fraction(fmt, integral):
    assert NumberMember("N", "n", fmt).integral is integral


def test_durations_in_ms_take_fractions_although_shown_without():
    from indi_seestar.indi import standard as std

    pulse = std.telescope_timed_guide_ns("M").member("TIMED_GUIDE_N")
    period = std.polling_period("M").member("PERIOD_MS")
    slot = std.filter_slot("W", 3).member("FILTER_SLOT_VALUE")
    assert pulse.format == period.format == slot.format == "%.f"
    assert not pulse.integral and not period.integral and slot.integral


def test_messages_on_the_wire_are_capped_at_a_word():
    text = "word " * 1000
    xml = encode.message("Dev", text, timestamp="2026-01-01T00:00:00")
    sent = xml.split(b'message="')[1].split(b'"')[0].decode()
    assert len(sent) <= encode.MAX_MESSAGE_CHARS and sent.endswith("word...")
