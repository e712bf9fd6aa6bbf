"""stderr logging stays under indiserver's 1 KiB line limit."""

from __future__ import annotations

import io
import logging

from indi_seestar.indi.log import MAX_LINE_BYTES, CappedFormatter, cap_lines, setup_logging


def test_long_lines_are_cut_on_utf8_boundaries() -> None:
    text = cap_lines("é" * 2000)
    assert len(text.encode()) <= MAX_LINE_BYTES and text.endswith("...")
    text.encode("utf-8")  # still valid


def test_long_tracebacks_keep_a_bounded_number_of_short_lines() -> None:
    text = cap_lines("\n".join("x" * 5000 for _ in range(100)), max_lines=10)
    lines = text.split("\n")
    assert len(lines) == 10 and lines[-1] == "... 91 more lines"
    assert max(len(line.encode()) for line in lines) <= MAX_LINE_BYTES


def test_records_and_exceptions_go_through_the_cap() -> None:
    stream = io.StringIO()
    handler = setup_logging(logging.INFO, stream)
    try:
        assert isinstance(handler.formatter, CappedFormatter)
        log = logging.getLogger("indi_seestar.test")
        log.info("%s", "y" * 10_000)
        try:
            raise ValueError("z" * 3000)
        except ValueError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("INFO indi_seestar.test: yyy")
    assert max(len(line.encode()) for line in lines) < 1024
    assert any(line.startswith("ValueError: zzz") for line in lines)


def test_long_lines_are_cut_at_a_word_with_an_ellipsis() -> None:
    text = cap_lines("a few words " * 200)
    assert len(text.encode()) <= MAX_LINE_BYTES and text.endswith("...")
    assert text[:-3].split()[-1] in ("a", "few", "words") and text[-4] != " "  # a whole word
