"""First contact on a fresh control session: verification probe, login (§6.2), device state.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
`pi_is_verified` is exempt from the verify marker and answered even unauthenticated on
7.32+: `false` means a login is needed. With a key we do the handshake; without one we
raise LoginRequired within seconds instead of waiting on a socket that never answers
(§10 quirk 3). Firmware 7.18..7.31 offers the login but does not enforce it, so without a
key we check whether plain requests are answered before giving up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import AuthenticationFailed, LoginRequired, RequestTimeout
from ..protocol import builders_session
from ..protocol.auth import sign_challenge
from ..protocol.codes import ErrorCode
from ..protocol.methods import Method
from ..protocol.results import DeviceState, parse_device_state
from ..protocol.rpc import Reply, VerifyPolicy
from .connection import RpcConnection
from .timeouts import Timeouts

log = logging.getLogger(__name__)

#: firmware_ver_int from which an unauthenticated socket gets no replies at all (7.32, §6.1).
FIRMWARE_LOGIN_ENFORCED = 2732
#: The configuration key we point the user at.
KEY_FILE_SETTING = "seestar.key_file"
#: Logged in, yet events stream and requests stay unanswered (seestar_alp PR #768).
_WRONG_KEY = ("the login was accepted but the scope still answers nothing while its events "
              "arrive: the key is probably wrong (not the app's key)")
#: Codes that mean "this parameter shape is refused" for get_device_state with the marker.
_MARKER_REFUSED = frozenset({ErrorCode.EXPECTED_OBJECT_PARAM, ErrorCode.UNEXPECTED_PARAM})


@dataclass(frozen=True, slots=True)
class Contact:
    """What first contact learned."""

    device: DeviceState
    logged_in: bool
    verified_probe: bool | None  # pi_is_verified's answer; None = unanswered / unknown method


async def first_contact(conn: RpcConnection, key: rsa.RSAPrivateKey | None,
                        timeouts: Timeouts) -> Contact:
    """Log in if needed, read the device state and set the connection's verify policy."""
    conn.policy = VerifyPolicy.MARKER  # harmless on old firmware; required > 2582 (§2.7)
    verified = await probe_verified(conn, timeouts.verify_probe_s)
    logged_in = False
    if verified is not True and key is not None:
        # False: a login is needed. None: no answer (7.75+ withholds even pi_is_verified
        # before login) or 103 (no login on this firmware: get_verify_str says 103 too).
        logged_in = await handshake(conn, key, timeouts)
    elif verified is False or (verified is None and conn.last_event_monotonic_s > conn.opened_monotonic_s):
        device = await _device_state_or_none(conn, timeouts.login_probe_s)
        if device is None or device.firmware_ver_int >= FIRMWARE_LOGIN_ENFORCED:
            raise LoginRequired(_firmware_text(device, conn), KEY_FILE_SETTING)
        if verified is False:
            log.warning("firmware %s offers a login but does not enforce it; going on without "
                        "a key", device.firmware_ver_string)
    try:
        device = await read_device_state(conn, timeouts.device_state_s)
    except RequestTimeout:
        if conn.last_event_monotonic_s > conn.opened_monotonic_s:
            # §10 quirk 3 / seestar_alp #759, PR #768: events stream but replies are withheld.
            if key is None:
                raise LoginRequired(_firmware_text(None, conn), KEY_FILE_SETTING) from None
            if logged_in:
                raise AuthenticationFailed(str(Method.VERIFY_CLIENT), -1, _WRONG_KEY) from None
            logged_in = await handshake(conn, key, timeouts)
            device = await read_device_state(conn, timeouts.device_state_s)
        else:
            raise
    conn.policy = VerifyPolicy.for_firmware(device.firmware_ver_int)
    log.info("Seestar %s firmware %s (%d), %s", device.product_model or "?",
             device.firmware_ver_string or "?", device.firmware_ver_int,
             "logged in" if logged_in else "no login needed")
    return Contact(device, logged_in, verified)


async def probe_verified(conn: RpcConnection, timeout_s: float) -> bool | None:
    """`pi_is_verified`: True/False, or None when unknown (no answer, method not found)."""
    try:
        reply = await conn.call(builders_session.pi_is_verified(), timeout_s)
    except RequestTimeout:
        log.debug("pi_is_verified unanswered within %g s", timeout_s)
        return None
    if not reply.ok:
        return None  # 103 on firmware without the login
    result: Any = reply.result
    if isinstance(result, dict):
        result = result.get("is_verified")
    return result if isinstance(result, bool) else None


async def handshake(conn: RpcConnection, key: rsa.RSAPrivateKey, timeouts: Timeouts) -> bool:
    """get_verify_str -> sign -> verify_client; True when logged in, False on pre-login firmware.

    A scope busy imaging answers get_verify_str ~10 s late (seestar_alp #753): an unanswered
    challenge is asked again after `login_retry_s` on the same socket (dropping it would only
    start over); the supervisor's keepalive stops the scope's idle limit from closing it.
    Replies are matched by id, so the events that stream meanwhile do not disturb it.
    """
    step_s = timeouts.login_step_s
    for attempt in range(1, max(1, timeouts.login_attempts) + 1):
        try:
            reply = await conn.call(builders_session.get_verify_str(), step_s)
            break
        except RequestTimeout:
            if attempt >= timeouts.login_attempts:
                # Not a key problem: a timeout, so a reconnect tries again later (backoff).
                log.warning("the scope did not answer the login challenge in %d tries of %g s "
                            "(busy imaging?)", attempt, step_s)
                raise
            log.warning("get_verify_str unanswered within %g s (a scope busy imaging stalls it); "
                        "asking again in %g s on the same connection", step_s, timeouts.login_retry_s)
            await asyncio.sleep(timeouts.login_retry_s)  # a throttle (the supervisor keeps the link alive)
    if reply.code == ErrorCode.METHOD_NOT_FOUND:
        log.info("firmware has no login (get_verify_str: 103); going on without")
        return False
    challenge = _challenge(reply)
    signature = sign_challenge(key, challenge)
    answer = await conn.call(builders_session.verify_client(signature, challenge), step_s)
    if not answer.ok:
        raise AuthenticationFailed(str(answer.method or Method.VERIFY_CLIENT), answer.code,
                                   answer.error or "signature refused (is it the right key?)")
    log.info("logged in to the Seestar")
    return True


async def read_device_state(conn: RpcConnection, timeout_s: float) -> DeviceState:
    """`get_device_state` with the marker, retried without it on 107/109; CommandFailed otherwise."""
    reply = await conn.call(builders_session.get_device_state(), timeout_s)
    if reply.code in _MARKER_REFUSED:
        reply = await conn.call(builders_session.get_device_state(), timeout_s, policy=VerifyPolicy.NONE)
    if not reply.ok:
        raise reply.failure(Method.GET_DEVICE_STATE)
    return parse_device_state(reply.result)


async def _device_state_or_none(conn: RpcConnection, timeout_s: float) -> DeviceState | None:
    try:
        return await read_device_state(conn, timeout_s)
    except RequestTimeout:
        return None


def _challenge(reply: Reply) -> str:
    if not reply.ok:
        raise AuthenticationFailed(str(reply.method or Method.GET_VERIFY_STR), reply.code,
                                   reply.error or "no challenge")
    result = reply.result
    if isinstance(result, dict):
        result = result.get("str")
    if not isinstance(result, str) or not result:
        raise AuthenticationFailed(str(Method.GET_VERIFY_STR), -1, "the reply carries no challenge string")
    return result


def _firmware_text(device: DeviceState | None, conn: RpcConnection) -> str:
    if device is not None and device.firmware_ver_string:
        return device.firmware_ver_string
    if conn.last_event_monotonic_s > conn.opened_monotonic_s:
        return ("7.32 or later: events arrive but no request is answered, so the scope wants a "
                "login (a missing or wrong key)")
    return "7.32 or later: replies are withheld until login"
