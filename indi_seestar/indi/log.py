"""Logging for a process whose stdout is the INDI wire: stderr only, lines capped (layer indi/).

indiserver reads a driver's stderr with a 1024-byte line buffer and stops reading it for good
after one line of 1 KiB or more (shared/reference/indi-standard.md §1.1), so every line of every
record is cut to MAX_LINE_BYTES and long tracebacks to MAX_LINES lines.
Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from indi_seestar.text import shorten

MAX_LINE_BYTES = 900
MAX_LINES = 40
FORMAT = "%(levelname)s %(name)s: %(message)s"  # indiserver adds the time and driver name


def cap_lines(
    text: str, *, max_line_bytes: int = MAX_LINE_BYTES, max_lines: int = MAX_LINES
) -> str:
    """Cut every line to max_line_bytes of UTF-8 (at a word, with "...") and keep at most
    max_lines lines."""
    lines = text.splitlines() or [""]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [f"... {len(lines) - max_lines + 1} more lines"]
    return "\n".join(_fit(line, max_line_bytes) for line in lines)


def _fit(line: str, max_bytes: int) -> str:
    """`line` cut at a word boundary with "..." so that its UTF-8 fits in max_bytes."""
    raw = line.encode("utf-8", "replace")
    if len(raw) <= max_bytes:
        return line
    # The characters whose UTF-8 fits; shorten() keeps fewer of them and adds "...", no more.
    return shorten(line, len(raw[:max_bytes].decode("utf-8", "ignore")))


class CappedFormatter(logging.Formatter):
    """A Formatter whose output lines never reach indiserver's 1 KiB stderr limit."""

    def format(self, record: logging.LogRecord) -> str:
        return cap_lines(super().format(record))


def setup_logging(level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger to stderr (or `stream`) through CappedFormatter; returns the handler."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(CappedFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
