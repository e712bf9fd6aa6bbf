"""Log-safe rendering of wire data: truncated, with keys, signatures and serials masked.

Layer: seestar (asyncio engine), pure. Must not import indi/, devices/ or sim/.
"""

from __future__ import annotations

import re

#: Longest wire excerpt we log; keeps every log line well under 1 KiB.
MAX_LOGGED_CHARS = 300

_SECRET = re.compile(
    r'("(?:sn|cpuId|sign|data|str|ssid|bssid|serial|passwd|password|key)"\s*:\s*)"[^"]*"',
    re.IGNORECASE,
)


def redact(data: bytes | str, limit: int = MAX_LOGGED_CHARS) -> str:
    """`data` as text with secrets masked, cut to `limit` characters."""
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    text = _SECRET.sub(r'\1"***"', text.strip())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"
