"""Plate solving in the fake Seestar: how many stars a frame shows, and the PlateSolve run.

Layer: sim. Pure helpers shared by the view use cases (AutoGoto) and the extras (start_solve);
they take the core and the frame spec, never an owner. Event shapes follow seestar-protocol.md
§3.2 and the S30 7.06 recording (PlateSolve).
"""

from __future__ import annotations

import math

import numpy as np

from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from . import sky
from .core import SimCore, lapse_ms

#: Plate-solve accuracy of the fake (arcsec, 1 sigma) and its time.
SOLVE_ERROR_ARCSEC = 1.5
SOLVE_S = 2.7


def star_count(core: SimCore, spec) -> int:  # type: ignore[no-untyped-def]
    """Stars bright enough to be detected in a frame (what PlateSolve reports)."""
    if spec.dark or not spec.pointings:
        return 0
    sky_pointings = spec.j2000_pointings()
    p = sky_pointings[len(sky_pointings) // 2]
    renderer = core.renderer
    stars = renderer.catalogue.near(p.ra_hours, p.dec_deg, renderer.profile.field_radius_deg)
    x, y, front = renderer.project(p, stars.ra_hours, stars.dec_deg)
    inside = front & (x >= 0) & (x < renderer.width) & (y >= 0) & (y < renderer.height)
    limit = 12.0 + 1.25 * math.log10(max(spec.exposure_s, 0.01) / 0.5)
    return int(np.count_nonzero(inside & (stars.mag < limit)))


async def solve_now(core: SimCore, spec, route: list[str], *, tag: str, ac_count: int = 1,  # type: ignore[no-untyped-def]
                    page: str = "preview") -> tuple[float, float] | None:
    """PlateSolve events for a frame; the true pointing (JNow) plus a tiny error, or None (251)."""
    bus, st = core.bus, core.state
    t0 = core.clock.now_s()
    bus.emit(EventName.PLATE_SOLVE, state="working", lapse_ms=1, route=route)
    bus.emit(EventName.PLATE_SOLVE, page=page, tag=tag, ac_count=ac_count, state="start")
    stars = star_count(core, spec)
    await core.clock.sleep(SOLVE_S * 0.45)
    if stars < 10:
        await core.clock.sleep(SOLVE_S * 0.55)
        bus.emit(EventName.PLATE_SOLVE, page=page, tag=tag, ac_count=ac_count, state="fail",
                 error="solve failed", code=int(ErrorCode.SOLVE_FAILED))
        bus.emit(EventName.PLATE_SOLVE, state="fail", lapse_ms=lapse_ms(core.clock.now_s() - t0), error="solve failed",
                 code=int(ErrorCode.SOLVE_FAILED), route=route)
        return None
    bus.emit(EventName.PLATE_SOLVE, page=page, tag=tag, ac_count=ac_count, state="solving", star_number=stars)
    await core.clock.sleep(SOLVE_S * 0.55)
    p = spec.pointings[len(spec.pointings) // 2]
    rng = np.random.default_rng([spec.image_id, 31337])
    east, north = rng.normal(0.0, SOLVE_ERROR_ARCSEC / 3600.0, 2)
    # The mount's JNow pointing: the frame's centre, whose stars are drawn at its J2000 place.
    ra, dec = sky.offset_radec(p.ra_hours, p.dec_deg, float(east), float(north))
    fov_w, fov_h = st.profile.fov_deg
    result = {"ra_dec": [round(ra, 6), round(dec, 6)], "fov": [round(fov_w, 5), round(fov_h, 5)],
              "focal_len": round(st.profile.focal_length_mm * (1 + rng.normal(0, 0.0005)), 6),
              "angle": round(p.theta_deg % 360.0, 6), "image_id": spec.image_id, "star_number": stars,
              "duration_ms": lapse_ms(core.clock.now_s() - t0)}
    st.last_solve = result
    bus.emit(EventName.PLATE_SOLVE, page=page, tag=tag, ac_count=ac_count, state="complete", result=result)
    bus.emit(EventName.PLATE_SOLVE, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
             ra_dec=result["ra_dec"], route=route)
    return ra, dec
