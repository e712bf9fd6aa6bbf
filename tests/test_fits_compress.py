"""fits/compress: `.fits.fz` as libindi sends it, read back by astropy and cfitsio's funpack."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

from indi_seestar.errors import LocalProtocolError
from indi_seestar.fits import FitsRecord, fits_parts, header_block
from indi_seestar.fits.compress import fz_bytes, fz_from_parts
from tests.test_fits import full_meta


def _noisy(shape: tuple[int, ...], seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(600, 25, shape), 0, 65535).astype(np.uint16)


@pytest.mark.parametrize("shape", [(1920, 1080), (37, 21), (3, 40, 30)])
def test_fz_of_parts_is_lossless_with_our_cards(shape: tuple[int, ...]) -> None:
    pixels = _noisy(shape)
    pixels.flat[:4] = (0, 65535, 32768, 1)  # the ends of the range survive the BZERO shift
    meta = full_meta(custom_records=(FitsRecord("OBJECT", "M 31", "Object name"),))
    parts = fits_parts(pixels, meta)
    packed = fz_from_parts(parts)
    hdul = afits.open(io.BytesIO(packed))
    hdul.verify("exception")
    assert len(hdul) == 2 and hdul[0].data is None and hdul[1].compression_type == "RICE_1"
    assert hdul[1].data.dtype == np.uint16 and np.array_equal(hdul[1].data, pixels)
    plain = afits.open(io.BytesIO(b"".join(parts)))[0].header
    for key in ("INSTRUME", "EXPTIME", "DATE-OBS", "OBJECT", "FOCALLEN"):
        assert hdul[1].header[key] == plain[key]
    if pixels.size > 100_000:
        assert len(packed) <= 0.6 * len(b"".join(parts))


def test_header_and_pixels_must_agree() -> None:
    with pytest.raises(LocalProtocolError):
        fz_bytes(_noisy((10, 12)), header_block(full_meta(), (11, 10)))


@pytest.mark.skipif(shutil.which("funpack") is None, reason="cfitsio's funpack not installed")
def test_cfitsio_funpack_reads_the_same_pixels(tmp_path: Path) -> None:
    pixels = _noisy((64, 48))
    (tmp_path / "f.fits.fz").write_bytes(fz_from_parts(fits_parts(pixels, full_meta())))
    subprocess.run(["funpack", "-O", str(tmp_path / "f.fits"), str(tmp_path / "f.fits.fz")],
                   check=True, timeout=30)
    assert np.array_equal(afits.getdata(tmp_path / "f.fits"), pixels)
