"""50 exposures in a row: 50 BLOBs, the same bytes on both ends, bounded driver memory (acc. 8).

The driver's RSS moves in steps of one frame buffer (~4 MB) that do not follow the number of
frames: the image pool keeps up to 3 buffers, filled as far as the busiest moment needed, and
glibc keeps freed 4 MB buffers in its heap once its mmap threshold has risen to their size. On a
loaded box that once read +12.5 MB (78.2 -> 90.2 MB, three buffers) over the 50 frames; 150
frames sampled one by one (two CPU hogs) went 78.3 -> 94.2 MB in four such steps, up and down
again, never one per frame. So the driver runs with a fixed mmap threshold (freed buffers go
back to the system: RSS is what the driver holds, the pool at most 3 buffers), and each end is
the median of SAMPLES readings, one after each of the last frames (a buffer just dropped and
not yet replaced reads 4 MB low).
"""

from __future__ import annotations

import hashlib
import statistics
from pathlib import Path

import psutil

from tests.e2e.camera_helpers import camera_rig, expose, point_high
from tests.e2e.test_camera_upload import set_upload

FRAMES = 50
WARM_UP = 5
#: RSS readings per end of the run (after each of the last SAMPLES warm-up / measured frames).
SAMPLES = 5
#: glibc's M_MMAP_THRESHOLD for the driver (bytes): fixed, so 4 MB buffers are always mapped
#: and unmapped, rather than kept in the heap after the first one is freed.
MMAP_THRESHOLD_BYTES = 1024 * 1024
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


def test_fifty_exposures_fifty_identical_blobs_and_no_memory_growth(tmp_path, monkeypatch):
    saved = tmp_path / "saved"
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD_BYTES))  # indiserver's env
    with camera_rig(tmp_path, readout_margin_s=SOAK_READOUT_MARGIN_S) as rig:
        client = rig.client
        point_high(rig)
        # UPLOAD_BOTH: the driver's own copy of each FITS is on disk, the client's is the BLOB.
        set_upload(rig, "UPLOAD_BOTH", str(saved), "SOAK_XXX")
        warm_rss = []
        for _ in range(WARM_UP):
            expose(rig, 0.05)
            warm_rss.append(driver_rss(rig))
        for path in saved.iterdir():
            path.unlink()
        rss_before = int(statistics.median(warm_rss[-SAMPLES:]))
        since = client.mark()
        end_rss = []
        for i in range(1, FRAMES + 1):
            shot = expose(rig, 0.05)
            info = shot.blob.values["CCD1"]
            path = Path(client.updates(rig.camera, "CCD_FILE_PATH", since=shot.since)[-1]
                        .values["FILE_PATH"])
            driver_copy = path.read_bytes()
            path.unlink()  # the next one is SOAK_001 again
            assert info.size == info.data_len == len(driver_copy), f"frame {i}"
            assert info.sha256 == hashlib.sha256(driver_copy).hexdigest(), f"frame {i}"
            if i > FRAMES - SAMPLES:
                end_rss.append(driver_rss(rig))
        rss_after = int(statistics.median(end_rss))
        blobs = client.updates(rig.camera, "CCD1", event="set", since=since)
        assert len(blobs) == FRAMES
        oks = [u for u in client.updates(rig.camera, "CCD_EXPOSURE", since=since)
               if u.state == "Ok"]
        assert len(oks) == FRAMES
        growth = rss_after - rss_before
        print(f"\ndriver RSS {rss_before / 2**20:.1f} MB -> {rss_after / 2**20:.1f} MB "
              f"over {FRAMES} frames")
        assert growth < RSS_GROWTH_LIMIT_BYTES
