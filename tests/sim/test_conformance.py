"""Acceptance 2: the fake answers the requests of the recorded real sessions in the same shapes.

Each session in ../shared/seestar-sessions is replayed against a fake with the recorded model
and firmware (timing scaled by the time factor, after a prelude that puts the fake in the state
the real scope was in). Every request the real scope answered must get a reply with the same
method and code, the same error text, and a result with the same keys and value types
(recursively); requests the real scope ignored must get no reply.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from indi_seestar.protocol.methods import Method
from indi_seestar.protocol.rpc import NO_PARAMS
from indi_seestar.sim.clock import SimClock
from indi_seestar.sim.sky import lst_deg
from indi_seestar.sim.state import DEFAULT_LON_DEG

from .conftest import ControlClient, until

SESSIONS = (Path(__file__).parents[2] / ".." / "shared" / "seestar-sessions").resolve()
TIME_FACTOR = 40.0
#: Replies whose shape legitimately changes within a session (the View moves through stages).
TIME_VARYING = {Method.GET_VIEW_STATE}
#: Where the recorded S30 session looks (M 44); its gotos are refused below the horizon.
RECORDED_RA_HOURS, RECORDED_DEC_DEG = 8.698401, 19.575506
SIDEREAL_PER_SOLAR = 1.00273791


def clock_with_on_meridian(ra_hours: float) -> SimClock:
    """A fake clock started when `ra_hours` crossed the fake site's meridian (within the last day).

    The replay then sees the recorded targets high in the sky at any hour of the test run.
    """
    now = datetime.now(timezone.utc)
    since_transit_h = ((lst_deg(now, DEFAULT_LON_DEG) / 15.0 - ra_hours) % 24.0) / SIDEREAL_PER_SOLAR
    return SimClock(TIME_FACTOR, utc_at_start=now - timedelta(hours=since_transit_h))


def shape(value: Any) -> Any:
    """Keys and JSON value types, recursively (ints and floats are different types)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return ["list", *sorted({json.dumps(shape(v), sort_keys=True) for v in value})]
    return type(value).__name__


def load(session: Path) -> tuple[dict[str, Any], list[tuple[float, str, dict[str, Any]]]]:
    manifest = json.loads((session / "manifest.json").read_text())
    lines = [json.loads(line) for line in (session / "control.jsonl").read_text().splitlines() if line.strip()]
    return manifest, [(r["timestamp"], r["direction"], json.loads(r["raw"])) for r in lines]


def pair_requests(messages: list[tuple[float, str, dict[str, Any]]]) -> list[tuple[float, dict[str, Any], dict[str, Any] | None]]:
    """(time, request, recorded reply or None when the scope ignored every such request).

    Requests are paired with replies of the same method in order (the recording proxy rewrote
    the ids); requests sent just before the recording stopped have no reply and are skipped.
    """
    requests = [(t, m) for t, d, m in messages if d == "client"]
    replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _t, d, m in messages:
        if d == "telescope" and "Event" not in m and "method" in m:
            replies[m["method"]].append(m)
    count: dict[str, int] = defaultdict(int)
    out = []
    for t, req in requests:
        got = replies.get(req["method"], [])
        i = count[req["method"]]
        count[req["method"]] += 1
        if i < len(got):
            out.append((t, req, got[i]))
        elif not got:
            out.append((t, req, None))  # the scope never answered this method: ignored
        # else: the recording ended before the reply; nothing to compare
    return out


def sessions() -> list[Path]:
    if not SESSIONS.is_dir():
        return []
    return sorted(p for p in SESSIONS.iterdir() if (p / "control.jsonl").is_file())


async def prelude(fake: Any, ctl: ControlClient, name: str) -> None:
    """Bring the fake into the state the real scope was in when the recording began."""
    if name.startswith("s50"):
        # Recorded: arm closed, EQ mode, star view with ContinuousExposure running.
        fake.start_preview()
        await until(lambda: fake.state.view.stage == "ContinuousExposure", 5)
        return
    # s30: a finished AutoGoto to M 44 whose view was stopped (View cancel, stage CE cancel).
    await ctl.result(Method.ISCOPE_START_VIEW, {"mode": "star", "target_name": "M 44",
                                                "target_ra_dec": [RECORDED_RA_HOURS, RECORDED_DEC_DEG]})
    await ctl.event("Stack", lambda e: e.state == "start", timeout_s=10)
    await ctl.result(Method.ISCOPE_STOP_VIEW, {"stage": "Stack"})
    await until(lambda: fake.state.view.stage == "ContinuousExposure", 5)
    await ctl.result(Method.ISCOPE_STOP_VIEW)


@pytest.mark.skipif(not sessions(), reason="../shared/seestar-sessions is absent")
@pytest.mark.parametrize("session", sessions(), ids=lambda p: p.name)
async def test_fake_answers_like_the_recorded_scope(session: Path, fake_factory, client_factory):
    manifest, messages = load(session)
    model = manifest["telescope_model"].split()[-1]
    parked, equ = (True, True) if session.name.startswith("s50") else (False, False)
    fake = await fake_factory(model=model, firmware=manifest["firmware_version"], time_factor=TIME_FACTOR,
                              parked=parked, equ_mode=equ, clock=clock_with_on_meridian(RECORDED_RA_HOURS))
    if not parked:
        fake.point_at(RECORDED_RA_HOURS, RECORDED_DEC_DEG)
    ctl: ControlClient = await client_factory(fake.control_port)
    await prelude(fake, ctl, session.name)
    recorded_shapes: dict[tuple[str, str], set[str]] = defaultdict(set)
    pairs = pair_requests(messages)
    for _t, req, rep in pairs:
        if rep is not None and "result" in rep:
            recorded_shapes[(req["method"], json.dumps(req.get("params")))].add(json.dumps(shape(rep["result"])))

    sent: list[tuple[Any, dict[str, Any], dict[str, Any] | None]] = []
    t_first = pairs[0][0]
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, (t, req, rep) in enumerate(pairs):
        await asyncio.sleep(max(0.0, start + (t - t_first) / TIME_FACTOR - loop.time()))
        req_id = f"r{i}"
        obj = {"method": req["method"], "id": req_id}
        if "params" in req:
            obj["params"] = req["params"]
        ctl.send_raw(obj)
        sent.append((req_id, req, rep))
    # A marked heartbeat (answered on every profile) fences the replay: replies come in order.
    fence = ctl.send(Method.TEST_CONNECTION)
    assert (await ctl.reply(fence, 10)).result == "server connected!"
    await asyncio.sleep(0.05)

    problems = []
    for req_id, req, rep in sent:
        got = ctl.replies.get(req_id)
        where = f"{req['method']} {json.dumps(req.get('params', '<none>'))}"
        if rep is None:
            if got is not None:
                problems.append(f"{where}: the real scope ignored it, the fake answered {got.raw}")
            continue
        if got is None:
            problems.append(f"{where}: no reply (real: {json.dumps(rep)[:200]})")
            continue
        if got.method != rep["method"] or got.code != rep.get("code", 0) or got.error != rep.get("error"):
            problems.append(f"{where}: got {got.method}/{got.code}/{got.error}, real {rep['method']}/"
                            f"{rep.get('code')}/{rep.get('error')}")
            continue
        if "result" in rep:
            mine = json.dumps(shape(got.result))
            allowed = (recorded_shapes[(req["method"], json.dumps(req.get("params")))]
                       if Method(req["method"]) in TIME_VARYING else {json.dumps(shape(rep["result"]))})
            if mine not in allowed:
                problems.append(f"{where}: result shape differs\n fake: {mine[:600]}\n real: {sorted(allowed)[0][:600]}")
    assert not problems, "\n".join(problems[:10])


@pytest.mark.skipif(not sessions(), reason="../shared/seestar-sessions is absent")
async def test_marked_heartbeat_replies_like_recorded(fake_factory, client_factory):
    """The proxy's test_connection heartbeats were answered "server connected!" (S50 6.70)."""
    fake = await fake_factory(model="S50", firmware="6.70")
    ctl = await client_factory(fake.control_port)
    for params in (["verify"], "verify"):
        reply = await ctl.reply(ctl.send(Method.TEST_CONNECTION, params, marker=False))
        assert (reply.method, reply.code, reply.result) == ("test_connection", 0, "server connected!")
    silent = ctl.send(Method.TEST_CONNECTION, NO_PARAMS, marker=False)
    await ctl.call(Method.PI_STATION_STATE)
    assert silent not in ctl.replies
