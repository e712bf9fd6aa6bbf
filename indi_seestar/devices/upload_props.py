"""UPLOAD_MODE, UPLOAD_SETTINGS and CCD_FILE_PATH of a device that makes images (camera, stack).

Layer: devices. A helper of the device that shows them: it gets the device's name and its
add/remove/publish/message calls, never the device itself nor its module. As libindi
does, CCD_FILE_PATH is defined only while frames are saved on the host (UPLOAD_LOCAL/BOTH).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..indi import standard as std
from ..indi.model import State, Vector
from .camera_upload import UploadMode, UploadPlan, home


class UploadProperties:
    """Where the device's images go (UPLOAD_MODE/UPLOAD_SETTINGS) and the last file saved."""

    def __init__(self, device: str, *, add: Callable[..., Any], remove: Callable[[Vector], None],
                 publish: Callable[..., None], message: Callable[[str], None],
                 prefix: str = "IMAGE_XXX", saved_text: str = "Image saved to") -> None:
        self._add, self._remove, self._publish, self._message = add, remove, publish, message
        self._saved_text = saved_text
        self.mode = add(std.upload_mode(device), connected_only=True, on_new=self._on_mode,
                        saved=True)
        self.settings = add(std.upload_settings(device, home(), prefix), connected_only=True,
                            saved=True)
        self.file_path = std.ccd_file_path(device)  # added by sync_file_path() while saving
        self._file_path_added = False

    def plan(self) -> UploadPlan:
        """UPLOAD_MODE and UPLOAD_SETTINGS as they stand now."""
        mode = UploadMode(next(iter(self.mode.on_names()), "UPLOAD_CLIENT"))
        return UploadPlan(mode, str(self.settings["UPLOAD_DIR"]),
                          str(self.settings["UPLOAD_PREFIX"]))

    def sync_file_path(self) -> None:
        """Define CCD_FILE_PATH while frames are saved on the host, delete it otherwise."""
        saving = self.plan().mode.saves
        if saving and not self._file_path_added:
            self._add(self.file_path, connected_only=True)
        elif not saving and self._file_path_added:
            self._remove(self.file_path)
        self._file_path_added = saving

    def show_file_path(self, path: str) -> None:
        """CCD_FILE_PATH Ok with the file just written, and a message naming it."""
        self.file_path["FILE_PATH"] = path
        self._message(f"{self._saved_text} {path}")
        self._publish(self.file_path, state=State.OK)

    def _on_mode(self, values: dict[str, bool]) -> None:
        self.mode.update(values)
        self.sync_file_path()
        self._publish(self.mode, state=State.OK)
