"""CONFIG_PROCESS persistence in libindi's `<device>_config.xml` format (layer indi/).

File layout (as libindi writes it): root `INDIDriver`, children `newXVector device= name=` with
`oneX name=` children. Location: `<config_dir>/<device>_config.xml` when a directory is given
(tests), else `$INDICONFIG` (libindi's full file path; shared by our devices, so each save keeps
the other devices' records), else `~/.indi/<device>_config.xml`. The default configuration is
the same path plus `.default`, copied from the first saved file like libindi does.
Each saved record carries a microsecond `timestamp` attribute (valid INDI, ignored by libindi) so
that the newest of several devices' saves can be told apart: file times can tie (kernels that
stamp files with the coarse clock give every write within one tick the same time) and are one
time for every device when `$INDICONFIG` is shared.
Synchronous file I/O on small files. Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from indi_seestar.errors import ConfigError
from indi_seestar.indi import encode
from indi_seestar.indi.model import Kind, Rule, SwitchVector, Vector
from indi_seestar.indi.wire import NewVector, message_from_element

CONFIG_ROOT = "INDIDriver"
#: Answer to a load with nothing saved: libindi's INFO text (DefaultDevice::loadConfig). libindi
#: also sets CONFIG_PROCESS Alert then; we answer Ok, so that Ekos's load at every first
#: connection shows no red light (issue 13).
NO_SAVED_CONFIGURATION = (
    "No previous configuration found. To save driver configuration, "
    "click Save Configuration in Options tab."
)


def config_path(
    device: str, *, config_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Where libindi keeps `device`'s configuration, given an optional directory override."""
    env = os.environ if environ is None else environ
    if config_dir is not None:
        return Path(config_dir) / f"{device}_config.xml"
    if env.get("INDICONFIG"):
        return Path(env["INDICONFIG"])
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".indi" / f"{device}_config.xml"


def record_values(vector: Vector) -> dict[str, str]:
    """A vector's member values as wire texts (numbers decimal, switches On/Off)."""
    if vector.kind is Kind.NUMBER:
        return {m.name: encode.format_number(m.value) for m in vector.members}
    if vector.kind is Kind.SWITCH:
        return {m.name: "On" if m.value else "Off" for m in vector.members}
    return {m.name: str(m.value) for m in vector.members}


def _is_saveable(vector: Vector) -> bool:
    if vector.kind not in (Kind.NUMBER, Kind.SWITCH, Kind.TEXT):
        return False
    # libindi never saves a OneOfMany switch with nothing On
    return not (
        isinstance(vector, SwitchVector)
        and vector.rule is Rule.ONE_OF_MANY
        and not vector.on_names()
    )


class ConfigStore:
    """One device's saved configuration: save, read, purge, and the `.default` copy."""

    def __init__(
        self,
        device: str,
        *,
        config_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.device = device
        self._clock = clock
        self.path = config_path(device, config_dir=config_dir, environ=environ)
        self.default_path = self.path.with_name(self.path.name + ".default")

    def read(self, *, default: bool = False) -> list[NewVector]:
        """This device's records in file order; ConfigError if the file is missing or unreadable."""
        path = self.default_path if default else self.path
        return [r for r in self._records(path, missing_ok=False) if r.device == self.device]

    def saved_record(self, name: str) -> NewVector | None:
        """The last saved record of property `name`, or None (no file, no record, unreadable)."""
        try:
            records = self.read()
        except ConfigError:
            return None
        found = [r for r in records if r.name == name]
        return found[-1] if found else None

    def saved_values(self, name: str) -> dict[str, str] | None:
        """Saved member texts of property `name`, or None (no file, no record, unreadable file)."""
        record = self.saved_record(name)
        return None if record is None else dict(record.values)

    def saved_at_s(self, record: NewVector) -> float:
        """Epoch seconds when `record` was saved: its timestamp, else the file's time, else 0."""
        if record.timestamp is not None:
            try:
                stamp = datetime.fromisoformat(record.timestamp)
                return stamp.replace(tzinfo=timezone.utc).timestamp()
            except ValueError:
                pass
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def save(self, vectors: Iterable[Vector]) -> None:
        """Replace this device's records with the values of `vectors`; keep other devices'."""
        others = [r for r in self._records(self.path, missing_ok=True) if r.device != self.device]
        stamp = encode.format_timestamp_us(self._clock())
        ours = [
            NewVector(v.kind, self.device, v.name, record_values(v), stamp)
            for v in vectors
            if _is_saveable(v)
        ]
        self._write(self.path, others + ours)
        self.ensure_default()

    def purge(self) -> None:
        """Delete this device's records (the file too when nothing else is in it)."""
        if not self.path.exists():
            raise ConfigError("no configuration file to purge", path=str(self.path))
        others = [r for r in self._records(self.path, missing_ok=True) if r.device != self.device]
        if others:
            self._write(self.path, others)
        else:
            try:
                self.path.unlink()
            except OSError as exc:
                raise ConfigError(f"cannot delete: {exc.strerror}", path=str(self.path)) from None

    def perform(self, action: str, saved: Iterable[Vector]) -> tuple[str, list[NewVector]]:
        """Do one CONFIG_PROCESS action; return its message and the records to replay (load)."""
        if action == "CONFIG_SAVE":
            self.save(saved)
            return "Device configuration saved.", []
        if action in ("CONFIG_LOAD", "CONFIG_DEFAULT"):
            default = action == "CONFIG_DEFAULT"
            if not (self.default_path if default else self.path).exists():
                return NO_SAVED_CONFIGURATION, []  # a fresh install is not an error
            return "Device configuration applied.", self.read(default=default)
        if action == "CONFIG_PURGE":
            self.purge()
            return "Configuration file successfully purged.", []
        raise ConfigError(f"unknown configuration action {action}")

    def ensure_default(self) -> None:
        """Copy the configuration to `<file>.default` if that does not exist yet (libindi does)."""
        if self.path.exists() and not self.default_path.exists():
            try:
                shutil.copyfile(self.path, self.default_path)
            except OSError as exc:
                raise ConfigError(
                    f"cannot write: {exc.strerror}", path=str(self.default_path)
                ) from None

    @staticmethod
    def _records(path: Path, *, missing_ok: bool) -> list[NewVector]:
        try:
            root = ET.fromstring(path.read_bytes())
        except FileNotFoundError:
            if missing_ok:
                return []
            raise ConfigError("no saved configuration", path=str(path)) from None
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from None
        except ET.ParseError as exc:
            raise ConfigError(f"not valid XML: {exc}", path=str(path)) from None
        messages = (message_from_element(child) for child in root)
        return [m for m in messages if isinstance(m, NewVector)]

    @staticmethod
    def _write(path: Path, records: Iterable[NewVector]) -> None:
        body = b"".join(
            encode.new_vector(r.kind, r.device, r.name, r.values, timestamp=r.timestamp)
            for r in records
        )
        data = f"<{CONFIG_ROOT}>\n".encode() + body + f"</{CONFIG_ROOT}>\n".encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise ConfigError(f"cannot write: {exc.strerror}", path=str(path)) from None
