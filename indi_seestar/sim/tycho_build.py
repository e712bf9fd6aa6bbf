"""Builds the fake's compact star file from an astrometry.net Tycho-2 index (install time only).

Layer: sim (numpy + stdlib). Input: Debian's astrometry-data-tycho2-07 index file
(/usr/share/astrometry/index-tycho2-07*.fits, BSD-2-Clause): its star kd-tree holds each
star as three u32 scaled unit-vector components (little-endian, header ENDIAN, range
table [min x y z, max x y z, scale]), and a standard big-endian FITS column MAG_VT holds the
Tycho VT magnitude in the same order. No colour is in the index, so each star gets a B-V drawn
once here from a fixed seed (the same file every build).

Output: one .npy int32 array (4, N) sorted by declination: RA in 2**32 units of a turn, Dec in
2**31 units of 180 degrees, VT in millimag, B-V in millimag (`tycho.TychoSky` reads it).
Run: `python -m indi_seestar.sim.tycho_build INDEX.fits OUT.npy` (the Makefile's `sky` target).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

from .tycho import DEC_UNITS_PER_DEG, RA_UNITS_PER_DEG

_BLOCK = 2880
_CARD = 80
_BV_SEED = 20260


def _hdus(raw: np.ndarray) -> list[tuple[dict[str, str], int, int]]:
    """(header cards, data offset, data size) of every HDU of a FITS file given as bytes."""
    out: list[tuple[dict[str, str], int, int]] = []
    pos = 0
    while pos + _BLOCK <= raw.size:
        cards: dict[str, str] = {}
        done = False
        while not done:
            block = raw[pos:pos + _BLOCK].tobytes().decode("latin-1")
            pos += _BLOCK
            for k in range(0, _BLOCK, _CARD):
                card = block[k:k + _CARD]
                key = card[:8].strip()
                if key == "END":
                    done = True
                    break
                if card[8:10] == "= ":
                    cards[key] = card[10:].split("/")[0].strip().strip("'").strip()
        naxis = int(cards.get("NAXIS", "0"))
        size = 0
        if naxis:
            size = abs(int(cards.get("BITPIX", "8"))) // 8
            for axis in range(1, naxis + 1):
                size *= int(cards[f"NAXIS{axis}"])
            size += int(cards.get("PCOUNT", "0") or 0)
        out.append((cards, pos, size))
        pos += -(-size // _BLOCK) * _BLOCK
    return out


def read_index(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(RA deg, Dec deg, VT mag) of every star of an astrometry.net index file."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    columns = {cards.get("TTYPE1", ""): (cards, off, size) for cards, off, size in _hdus(raw)}
    header = columns["kdtree_header_stars"][0]
    if header.get("KDT_DATA") != "u32" or columns["kdtree_data_stars"][0].get("NAXIS1") != "12":
        raise ValueError(f"{path}: star kd-tree is not u32 x 3")
    n = int(header["KDT_NDAT"])
    _, off, _ = columns["kdtree_range_stars"]
    lo_hi_scale = raw[off:off + 56].view("<f8")
    _, off, _ = columns["kdtree_data_stars"]
    data = raw[off:off + 12 * n].view("<u4").reshape(n, 3)
    xyz = data / lo_hi_scale[6]
    xyz += lo_hi_scale[:3]
    _, off, _ = columns["MAG_VT"]
    mag = raw[off:off + 4 * n].view(">f4").astype(np.float64)
    ra = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0])) % 360.0
    dec = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    return ra, dec, mag


def pack(ra_deg: np.ndarray, dec_deg: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """The (4, N) int32 array the fake reads, sorted by declination."""
    order = np.argsort(dec_deg, kind="stable")
    ra_deg, dec_deg, mag = ra_deg[order], dec_deg[order], mag[order]
    bv = np.clip(np.random.default_rng(_BV_SEED).normal(0.65, 0.35, ra_deg.size), -0.2, 2.0)
    ra_u = np.round(ra_deg * RA_UNITS_PER_DEG).astype(np.uint64) % (1 << 32)
    out = np.empty((4, ra_deg.size), dtype=np.int32)
    out[0] = ra_u.astype(np.uint32).view(np.int32)
    out[1] = np.round(dec_deg * DEC_UNITS_PER_DEG).astype(np.int32)
    out[2] = np.round(mag * 1000.0).astype(np.int32)
    out[3] = np.round(bv * 1000.0).astype(np.int32)
    return out


def build(index: Path, out: Path) -> int:
    """Write the compact file (atomically); returns the number of stars."""
    ra, dec, mag = read_index(index)
    ok = np.isfinite(mag) & np.isfinite(ra) & np.isfinite(dec)
    packed = pack(ra[ok], dec[ok], mag[ok])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, packed)
    os.replace(tmp, out)
    return int(packed.shape[1])


def main(argv: list[str] | None = None) -> int:
    """Entry point: INDEX OUT."""
    p = argparse.ArgumentParser(prog="python -m indi_seestar.sim.tycho_build", description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path, help="astrometry.net Tycho-2 index, e.g. index-tycho2-07*.fits")
    p.add_argument("out", type=Path, help="compact star file to write (.npy)")
    args = p.parse_args(argv)
    try:
        n = build(args.index, args.out)
    except (OSError, KeyError, ValueError) as exc:
        print(f"tycho_build: {args.index}: {exc}", file=sys.stderr)
        return 2
    size_mb = args.out.stat().st_size / 1e6
    print(f"tycho_build: {n} stars -> {args.out} ({size_mb:.1f} MB, {math.ceil(size_mb)} MB on disk)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
