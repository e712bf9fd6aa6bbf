"""StackCommands: SeestarClient's live-stack settings and the scope's stack state after a reconnect.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
A mixin of SeestarClient (start/stop/get_stacked_image stay on the facade, in imaging.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import SeestarConfig
from ..errors import CommandFailed
from ..protocol import firmware as fw
from ..protocol import builders_imaging, builders_session, results
from ..protocol.codes import ErrorCode
from ..protocol.methods import Method, Stage
from ..protocol.stacking import StackSettings, parse_stack_settings, settings_calls
from .commands import Commands
from .scope_http import http_get, list_folder


@dataclass(frozen=True, slots=True)
class ScopeStack:
    """The stack as `get_view_state` shows it: running, and its counters when it says."""

    running: bool
    stacked: int | None = None
    dropped: int | None = None
    lapse_ms: int | None = None
    target_name: str = ""


class StackCommands(Commands):
    """Read and change the stack settings; read the scope's own stack state; batch stacking."""

    _config: SeestarConfig

    async def get_stack_settings(self) -> StackSettings:
        """The stack settings as the scope has them (`get_setting`)."""
        reply = await self._send(builders_session.get_setting())
        return parse_stack_settings(reply.result)

    async def apply_stack_settings(self, old: StackSettings, new: StackSettings) -> None:
        """Send what differs (CommandFailed if the firmware refuses: then nothing more is sent)."""
        for call in settings_calls(old, new):
            await self._send(call)

    async def get_scope_stack(self) -> ScopeStack:
        """Whether the scope stacks now, with its counters (after a reconnect, say)."""
        view = results.parse_view_state((await self._send(builders_session.get_view_state())).result)
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

    # --- batch stacking (§8.9) and the scope's files ---------------------------------------

    async def list_subs(self, target: str) -> list[str]:
        """The sub-frame files stored for `target` (MyWorks/<target>_sub), sorted."""
        folder = sub_folder(target)
        names = await list_folder(self._config.host, self._config.files_port, folder, self._t.files_s)
        return sorted(n for n in names if n.lower().endswith((".fit", ".fits")))

    async def read_scope_file(self, path: str) -> bytes:
        """One file of the scope (NotFound if it has none)."""
        return await http_get(self._config.host, self._config.files_port, path, self._t.files_s)

    async def start_batch_stack(self, target: str, names: list[str]) -> None:
        """Choose `names` (files of the target's sub folder) and start the batch stack."""
        folder = sub_folder(target)
        full = fw.batch_full_paths(self._snapshot.current.firmware_ver_int)
        await self._send(builders_imaging.set_batch_stack_setting(
            folder, [f"{folder}/{n}" if full else n for n in names]))
        await self._send(builders_imaging.start_batch_stack())

    async def stop_batch_stack(self) -> None:
        """Stop the batch stack (BatchStack cancel follows)."""
        await self._send(builders_imaging.stop_batch_stack())

    async def clear_batch_stack(self) -> None:
        """Reset the batch stack state: clear_batch_stack (7.75+), else clear_app_state."""
        if fw.has_method(self._snapshot.current.firmware_ver_int, Method.CLEAR_BATCH_STACK):
            try:
                await self._send(builders_imaging.clear_batch_stack())
                return
            except CommandFailed as exc:
                if exc.code != ErrorCode.METHOD_NOT_FOUND:
                    raise
        await self._send(builders_session.clear_app_state("BatchStack"))


def sub_folder(target: str) -> str:
    """Where the scope saves a target's subs (§8.3 B)."""
    return f"MyWorks/{target}_sub"
