"""Cutting text for people: whole words with an ellipsis, and short excerpts of foreign values.

Pure and importable by every layer (like errors.py): it imports nothing of ours. Messages and log
lines are cut here, never with a bare slice, so a cut never ends mid-word without saying so, and
a value a client or the Seestar sent is echoed only as a short, escaped excerpt.
"""

from __future__ import annotations

ELLIPSIS = "..."
#: Characters of a foreign value shown in a message (the rest is counted, not echoed).
EXCERPT_CHARS = 32
#: A word boundary is looked for in this many characters before the limit; else cut there.
_WORD_SEARCH_CHARS = 40


def shorten(text: str, max_chars: int) -> str:
    """`text` if it fits in max_chars, else cut at a word boundary and ended with "..."."""
    if len(text) <= max_chars:
        return text
    room = max(0, max_chars - len(ELLIPSIS))
    head = text[: room + 1]
    cut = head.rfind(" ", max(0, room - _WORD_SEARCH_CHARS))
    head = head[:cut] if cut > 0 else head[:room]
    return head.rstrip(" ,;:") + ELLIPSIS


def excerpt(value: object, max_chars: int = EXCERPT_CHARS) -> str:
    """A quoted, escaped excerpt of a foreign value: `'abc'`, or `'abc...' (1048576 characters)`.

    Control and non-printable characters are shown as escapes (repr), so the excerpt is one
    line whatever the value holds; at most max_chars characters of the value are shown.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= max_chars:
        return repr(text)
    return f"{text[:max_chars]!r}... ({len(text)} characters)"
