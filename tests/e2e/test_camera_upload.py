"""UPLOAD_MODE local/both: the file on the driver's host, named as libindi does (acceptance 7)."""

from __future__ import annotations

import hashlib
import re

from tests.e2e.camera_helpers import camera_rig, open_fits, point_high

SETTLED = ("Ok", "Alert", "Idle")


def set_upload(rig, mode: str, directory: str, prefix: str) -> None:  # noqa: ANN001
    client = rig.client
    since = client.mark()
    client.send_text(rig.camera, "UPLOAD_SETTINGS", {"UPLOAD_DIR": directory,
                                                     "UPLOAD_PREFIX": prefix})
    client.wait(lambda u: u.name == "UPLOAD_SETTINGS" and u.state == "Ok", timeout_s=10,
                since=since)
    since = client.mark()
    client.send_switch(rig.camera, "UPLOAD_MODE", [mode])
    client.wait(lambda u: u.name == "UPLOAD_MODE" and u.state == "Ok", timeout_s=10, since=since)


def expose_saved(rig, seconds: float) -> tuple[int, str]:  # noqa: ANN001
    """Expose and return (mark, CCD_FILE_PATH reported)."""
    client = rig.client
    since = client.mark()
    client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
    path = client.wait(lambda u: u.name == "CCD_FILE_PATH" and u.event == "set", timeout_s=30,
                       since=since)
    assert path.state == "Ok"
    done = client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state in SETTLED, timeout_s=10,
                       since=since)
    assert done.state == "Ok" and done.values["CCD_EXPOSURE_VALUE"] == 0
    return since, path.values["FILE_PATH"]


def test_local_upload_writes_the_file_and_reports_its_path(tmp_path):
    shots = tmp_path / "shots" / "M42"
    with camera_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        assert not client.updates(rig.camera, "CCD_FILE_PATH")  # only while saving, as libindi
        set_upload(rig, "UPLOAD_LOCAL", str(shots), "Light_M42_XXX")
        client.wait(lambda u: u.name == "CCD_FILE_PATH" and u.event == "def", timeout_s=10)

        since, first = expose_saved(rig, 1.0)
        assert first == str(shots / "Light_M42_001.fits")  # the directory is created
        hdul = open_fits((shots / "Light_M42_001.fits").read_bytes())
        assert hdul[0].data.shape == (1920, 1080) and hdul[0].header["EXPTIME"] == 1.0
        assert not client.updates(rig.camera, "CCD1", event="set", since=since)  # local: no BLOB

        (shots / "Light_M42_007.fits").write_bytes(b"")  # libindi: next index after the largest
        _since, second = expose_saved(rig, 0.5)
        assert second == str(shots / "Light_M42_008.fits")

        set_upload(rig, "UPLOAD_BOTH", str(tmp_path / "both"), "IMG_ISO8601_XXX")
        since, path = expose_saved(rig, 0.5)
        name = path.rsplit("/", 1)[-1]
        assert re.fullmatch(r"IMG_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}_001\.fits", name), name
        blob = client.wait(lambda u: u.name == "CCD1" and u.event == "set", timeout_s=10,
                           since=since)
        data = (tmp_path / "both" / name).read_bytes()
        assert blob.values["CCD1"].sha256 == hashlib.sha256(data).hexdigest()

        set_upload(rig, "UPLOAD_CLIENT", str(shots), "Light_M42_XXX")
        client.wait(lambda u: u.name == "CCD_FILE_PATH" and u.event == "del", timeout_s=10)
