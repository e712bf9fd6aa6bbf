"""Saving frames on the driver's host (UPLOAD_LOCAL / UPLOAD_BOTH), named as libindi names them.

Layer: devices; blocking file I/O, run off the event loop (`asyncio.to_thread`).
libindi (INDI::CCD::uploadFile and getFileIndex): `_HOME_` in the directory is the server's
$HOME; the directory is created if missing; the index is 1 + the largest number found between
the last `_` and the last `.` of the files whose names contain the prefix with `_XXX` and
`_ISO8601` removed; in the prefix, `ISO8601` becomes the local time `YYYY-MM-DDTHH-MM-SS.mmm`
and `XXX` the index as 3 digits; the file is `<dir>/<prefix>.fits`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

HOME_TOKEN = "_HOME_"


class UploadMode(Enum):
    """UPLOAD_MODE: where a frame goes."""

    CLIENT = "UPLOAD_CLIENT"
    LOCAL = "UPLOAD_LOCAL"
    BOTH = "UPLOAD_BOTH"

    @property
    def sends(self) -> bool:
        """The frame goes to the clients as a BLOB."""
        return self is not UploadMode.LOCAL

    @property
    def saves(self) -> bool:
        """The frame is written to a file on the driver's host."""
        return self is not UploadMode.CLIENT


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """Where one frame goes: the mode, and for a saved frame the directory and the prefix."""

    mode: UploadMode = UploadMode.CLIENT
    directory: str = ""
    prefix: str = "IMAGE_XXX"


def home() -> str:
    """The driver's home directory (libindi's default UPLOAD_DIR)."""
    return os.environ.get("HOME") or str(Path.home())


def resolve_directory(directory: str) -> Path:
    """UPLOAD_DIR with `_HOME_` and `~` expanded; empty means the home directory."""
    text = directory.strip().replace(HOME_TOKEN, home()) or home()
    return Path(text).expanduser()


def next_index(directory: Path, prefix: str) -> int:
    """libindi's getFileIndex: 1 + the largest `_N.` index among files matching the prefix."""
    stem = prefix.replace("_ISO8601", "").replace("_XXX", "")
    largest = 0
    for name in os.listdir(directory):
        if stem and stem not in name:
            continue
        start, end = name.rfind("_"), name.rfind(".")
        if start < 0 or end <= start:
            continue
        digits = _leading_int(name[start + 1 : end])
        largest = max(largest, digits)
    return largest + 1


def _leading_int(text: str) -> int:
    """atoi(): the leading decimal digits (with an optional sign), 0 if none."""
    text = text.lstrip()
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
    digits = ""
    for ch in body:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def expand_prefix(prefix: str, index: int, now_local: datetime) -> str:
    """`ISO8601` -> local time with ms (libindi >= 2.0 form), `XXX` -> the 3-digit index."""
    stamp = now_local.strftime("%Y-%m-%dT%H-%M-%S") + f".{now_local.microsecond // 1000:03d}"
    return prefix.replace("ISO8601", stamp).replace("XXX", f"{index:03d}")


def save_frame(plan: UploadPlan, parts: Sequence[Any], extension: str = ".fits") -> Path:
    """Write the joined `parts` to the next file named from `plan` (blocking); its path."""
    directory = resolve_directory(plan.directory)
    directory.mkdir(parents=True, exist_ok=True)
    index = next_index(directory, plan.prefix)
    name = expand_prefix(plan.prefix, index, datetime.now().astimezone())
    if not name.strip():
        raise OSError("UPLOAD_PREFIX is empty")
    path = directory / f"{name}{extension}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for part in parts:
            f.write(part)
    return path
