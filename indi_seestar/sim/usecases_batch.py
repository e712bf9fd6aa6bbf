"""Batch (on-board re-)stacking of the fake Seestar over the subs in its album (§8.9).

Layer: sim. set_batch_stack_setting {path, files: [{name}]} chooses the subs (from 7.75 each
name must be the file's full path under the root, else BatchStack fails 267 "no image");
start_batch_stack re-stacks them with BatchStack working events (percent, stacked_img,
total_img, remaining_sec), then complete with output_file {path, files: [{name, thn}]}, the
result saved as a 16-bit RGB FITS in the album; stop_batch_stack ends it with cancel.
clear_batch_stack (7.75+) and clear_app_state {"name": "BatchStack"} reset the state, which
iscope_get_app_state reports under "BatchStack".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..protocol import firmware as fw
from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from ..protocol.methods import Method
from ..protocol.scope_files import read_fits, write_fits
from .core import SimCommandError, SimCore
from .files import Album
from .render import debayer_half

BATCH = "BatchStack"
#: Scope seconds the firmware spends per sub (not recorded; a few per sub on the S50 [U]).
SECONDS_PER_SUB = 1.0


class BatchOps:
    """The batch stack state machine."""

    def __init__(self, core: SimCore, album: Album) -> None:
        self._core = core
        self._album = album
        self.path = ""
        self.names: list[str] = []
        self.state: dict[str, Any] | None = None  # what iscope_get_app_state shows under BatchStack

    def configure(self, params: Any) -> None:
        """set_batch_stack_setting."""
        if not isinstance(params, dict) or not isinstance(params.get("files"), list):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        self.path = str(params.get("path", ""))
        self.names = [str(f.get("name", "")) for f in params["files"] if isinstance(f, dict)]

    def setting(self) -> dict[str, Any]:
        """get_batch_stack_setting (each file enriched with type, as the seed says)."""
        return {"path": self.path, "files": [{"name": n, "type": "light"} for n in self.names]}

    def start(self) -> None:
        """start_batch_stack."""
        if self._core.running(BATCH):
            raise SimCommandError.of(ErrorCode.STACK_ALREADY_RUNNING)
        self._core.spawn(BATCH, self._run(list(self.names), self.path))

    def stop(self) -> None:
        """stop_batch_stack."""
        if self._core.cancel(BATCH) and self.state is not None:
            self._emit(state="cancel")

    def clear(self) -> None:
        """clear_batch_stack / clear_app_state BatchStack."""
        if not self._core.running(BATCH):
            self.state = None

    def _emit(self, **fields: Any) -> None:
        self.state = {**(self.state or {}), **fields}
        self._core.bus.emit(EventName.BATCH_STACK, **fields)

    def _resolve(self, name: str, folder: str) -> str | None:
        full_paths = fw.batch_full_paths(self._core.state.profile.ver_int)
        if "/" in name:
            return name
        return None if full_paths else f"{folder.strip('/')}/{name}"

    async def _run(self, names: list[str], folder: str) -> None:
        core, total = self._core, len(names)
        self.state = None
        self._emit(state="working", percent=0.0, stacked_img=0, total_img=total,
                   remaining_sec=int(total * SECONDS_PER_SUB), frame_type="light")
        rgb_sum: np.ndarray | None = None
        cards: dict[str, Any] = {}
        for done, name in enumerate(names, 1):
            path = self._resolve(name, folder)
            data = self._album.get(path) if path is not None else None
            if data is None:
                self._emit(state="fail", error="no image", code=int(ErrorCode.NO_IMAGE))
                return
            await core.clock.sleep(SECONDS_PER_SUB)
            header, raw = await core.in_worker(read_fits, data)
            cards = cards or header
            rgb = await core.in_worker(debayer_half, raw)
            rgb_sum = rgb if rgb_sum is None else rgb_sum + rgb
            self._emit(state="working", percent=round(100.0 * done / total, 1), stacked_img=done, total_img=total,
                       remaining_sec=int((total - done) * SECONDS_PER_SUB), frame_type="light")
        if rgb_sum is None:
            self._emit(state="fail", error="no image", code=int(ErrorCode.NO_IMAGE))
            return
        avg = np.clip(rgb_sum / total, 0, 65535).astype(np.uint16)
        full = np.repeat(np.repeat(avg, 2, axis=0), 2, axis=1)
        target = folder.strip("/").split("/")[-1].removesuffix("_sub") or "Stack"
        stamp = core.state.clock.utc().strftime("%Y%m%d-%H%M%S")
        name = f"Stacked_{total}_{target}_{cards.get('EXPTIME', 10)}s_IRCUT_{stamp}.fit"
        out_folder = f"MyWorks/{target}"
        fits = await core.in_worker(write_fits, np.moveaxis(full, -1, 0),
                                    {"OBJECT": target, "STACKCNT": total, "EXPTIME": cards.get("EXPTIME", 10)})
        self._album.put(f"{out_folder}/{name}", fits)
        self._emit(state="complete", percent=100.0, stacked_img=total, total_img=total, remaining_sec=0,
                   output_file={"path": out_folder, "files": [{"name": name, "thn": name[:-4] + "_thn.jpg"}]})


def register(table: dict[Method, Any], batch: BatchOps, app_state: Any) -> None:
    """Add the batch-stack handlers; iscope_get_app_state gains the BatchStack key."""
    def with_batch(call: Any) -> Any:
        result = app_state(call)
        if batch.state is not None:
            result = {**result, BATCH: dict(batch.state)}
        return result

    def clear_app_state(call: Any) -> Any:
        params = call.params if isinstance(call.params, dict) else {}
        if params.get("name") == BATCH:
            batch.clear()
        return 0

    table.update({
        Method.SET_BATCH_STACK_SETTING: lambda call: batch.configure(call.params) or 0,
        Method.GET_BATCH_STACK_SETTING: lambda call: batch.setting(),
        Method.START_BATCH_STACK: lambda call: batch.start() or 0,
        Method.STOP_BATCH_STACK: lambda call: batch.stop() or 0,
        Method.CLEAR_BATCH_STACK: lambda call: batch.clear() or 0,
        Method.CLEAR_APP_STATE: clear_app_state,
        Method.GET_APP_STATE: with_batch,
    })


def save_sub(core: SimCore, album: Album, target: str, exposure_s: float, t_start_s: float,
             raw: np.ndarray) -> str:
    """Store one stacked sub, begun at scope time `t_start_s`, as the firmware names it (§8.3 B);
    its path. Named by its start, not by when its processing ended: subs processed in a burst
    (a loaded host, a fast fake clock) would otherwise share a second and overwrite each other."""
    st = core.state
    stamp = st.clock.utc_at(t_start_s).strftime("%Y%m%d-%H%M%S")
    filt = "LP" if st.lp_filter else "IRCUT"
    path = f"MyWorks/{target}_sub/Light_{target}_{exposure_s:.1f}s_{filt}_{stamp}.fit"
    album.put(path, write_fits(raw, {"EXPTIME": float(exposure_s), "OBJECT": target, "GAIN": st.gain,
                                     "BAYERPAT": "GRBG"}))
    return path
