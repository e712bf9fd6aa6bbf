"""50 exposures in a row: 50 BLOBs, the same bytes on both ends, bounded driver memory (acc. 8)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psutil

from tests.e2e.camera_helpers import camera_rig, expose, point_high
from tests.e2e.test_camera_upload import set_upload

FRAMES = 50
WARM_UP = 5
#: Driver RSS growth allowed over the 50 frames. A frame is ~4.1 MB of pixels in its pooled
#: buffer plus ~4.1 MB of FITS data, so keeping even one frame in three would add > 60 MB;
#: 10 MB is below the size of two frames and above the allocator's and Python's noise.
RSS_GROWTH_LIMIT_BYTES = 10 * 1024 * 1024
#: The timing guarantee is not under test here (test_camera_timing is): a small margin lets
#: each request take the next frame the fake renders, which keeps the run short.
SOAK_READOUT_MARGIN_S = 0.1


def driver_rss(rig) -> int:  # noqa: ANN001
    pids = rig.driver_pids()
    assert len(pids) == 1
    return int(psutil.Process(pids[0]).memory_info().rss)


def test_fifty_exposures_fifty_identical_blobs_and_no_memory_growth(tmp_path):
    saved = tmp_path / "saved"
    with camera_rig(tmp_path, readout_margin_s=SOAK_READOUT_MARGIN_S) as rig:
        client = rig.client
        point_high(rig)
        # UPLOAD_BOTH: the driver's own copy of each FITS is on disk, the client's is the BLOB.
        set_upload(rig, "UPLOAD_BOTH", str(saved), "SOAK_XXX")
        for _ in range(WARM_UP):
            expose(rig, 0.05)
        for path in saved.iterdir():
            path.unlink()
        rss_before = driver_rss(rig)
        since = client.mark()
        for i in range(1, FRAMES + 1):
            shot = expose(rig, 0.05)
            info = shot.blob.values["CCD1"]
            path = Path(client.updates(rig.camera, "CCD_FILE_PATH", since=shot.since)[-1]
                        .values["FILE_PATH"])
            driver_copy = path.read_bytes()
            path.unlink()  # the next one is SOAK_001 again
            assert info.size == info.data_len == len(driver_copy), f"frame {i}"
            assert info.sha256 == hashlib.sha256(driver_copy).hexdigest(), f"frame {i}"
        rss_after = driver_rss(rig)
        blobs = client.updates(rig.camera, "CCD1", event="set", since=since)
        assert len(blobs) == FRAMES
        oks = [u for u in client.updates(rig.camera, "CCD_EXPOSURE", since=since)
               if u.state == "Ok"]
        assert len(oks) == FRAMES
        growth = rss_after - rss_before
        print(f"\ndriver RSS {rss_before / 2**20:.1f} MB -> {rss_after / 2**20:.1f} MB "
              f"over {FRAMES} frames")
        assert growth < RSS_GROWTH_LIMIT_BYTES
