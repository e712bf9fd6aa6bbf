"""StackCommands: SeestarClient's live-stack settings and the scope's stack state after a reconnect.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
A mixin of SeestarClient (start/stop/get_stacked_image stay on the facade, in imaging.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..protocol import methods, results
from ..protocol.methods import Stage
from ..protocol.stacking import StackSettings, parse_stack_settings, settings_calls
from .commands import Commands


@dataclass(frozen=True, slots=True)
class ScopeStack:
    """The stack as `get_view_state` shows it: running, and its counters when it says."""

    running: bool
    stacked: int | None = None
    dropped: int | None = None
    lapse_ms: int | None = None
    target_name: str = ""


class StackCommands(Commands):
    """Read and change the stack settings; read the scope's own stack state."""

    async def get_stack_settings(self) -> StackSettings:
        """The stack settings as the scope has them (`get_setting`)."""
        reply = await self._send(methods.get_setting())
        return parse_stack_settings(reply.result)

    async def apply_stack_settings(self, old: StackSettings, new: StackSettings) -> None:
        """Send what differs (CommandFailed if the firmware refuses: then nothing more is sent)."""
        for call in settings_calls(old, new):
            await self._send(call)

    async def get_scope_stack(self) -> ScopeStack:
        """Whether the scope stacks now, with its counters (after a reconnect, say)."""
        view = results.parse_view_state((await self._send(methods.get_view_state())).result)
        stage: dict[str, Any] = {}
        raw_view = view.raw.get("View") if isinstance(view.raw, dict) else None
        if isinstance(raw_view, dict) and isinstance(raw_view.get(Stage.STACK), dict):
            stage = raw_view[Stage.STACK]
        running = view.stage == Stage.STACK and view.stage_state not in ("cancel", "complete", "fail")

        def num(key: str) -> int | None:
            value = stage.get(key)
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        return ScopeStack(running=running, stacked=num("stacked_frame"), dropped=num("dropped_frame"),
                          lapse_ms=num("lapse_ms"), target_name=view.target_name)
