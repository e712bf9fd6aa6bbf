"""Batch (on-board re-)stacking from the Seestar Stack device: list a target's stored subs,
choose all or some, start, follow, stop, and deliver the result like a live stack's image.

Layer: devices. Selection parsing and BatchStack event folding are pure; the device drives
the client and turns `BatchProgress` into SEESTAR_BATCH_PROGRESS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ValueRejected
from ..protocol.events import EventName
from ..protocol.rpc import Event


def parse_selection(text: str, count: int) -> list[int]:
    """0-based indices chosen by "all" or "1-5,8" (1-based, inclusive); ValueRejected if bad."""
    text = text.strip().lower()
    if text in ("", "all", "*"):
        return list(range(count))
    chosen: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueRejected("SEESTAR_BATCH_TARGET", f"{part.strip()!r} is not a sub number or range") from None
        if not 1 <= first <= last <= count:
            raise ValueRejected("SEESTAR_BATCH_TARGET", f"{part.strip()} is outside 1-{count}")
        chosen.extend(i - 1 for i in range(first, last + 1) if i - 1 not in chosen)
    return chosen


@dataclass
class BatchProgress:
    """What the BatchStack events said (state: working / complete / fail / cancel)."""

    state: str = ""
    percent: float = 0.0
    done: int = 0
    total: int = 0
    remaining_s: float = 0.0
    code: int | None = None
    error: str = ""
    output_paths: list[str] = field(default_factory=list)

    def apply(self, event: Event) -> bool:
        """Fold one BatchStack event in; True if it was one."""
        if event.name != EventName.BATCH_STACK:
            return False
        f = event.fields

        def num(key: str, default: float) -> float:
            value = f.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default

        self.state = str(f.get("state", self.state))
        self.percent = num("percent", self.percent)
        self.done = int(num("stacked_img", self.done))
        self.total = int(num("total_img", self.total))
        self.remaining_s = num("remaining_sec", self.remaining_s)
        code = f.get("code")
        self.code = code if isinstance(code, int) else self.code
        self.error = str(f.get("error", self.error))
        out = f.get("output_file")
        if isinstance(out, dict):
            folder = str(out.get("path", "")).strip("/")
            self.output_paths = [
                name if "/" in name else f"{folder}/{name}"
                for name in (str(x.get("name", "")) for x in out.get("files", []) if isinstance(x, dict))
                if name.lower().endswith((".fit", ".fits"))]
        return True
