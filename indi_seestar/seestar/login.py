"""First contact on a fresh control session: verification probe, login (§6.2), device state.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
`pi_is_verified` is exempt from the verify marker and answered even unauthenticated on
7.32+: `false` means a login is needed. With a key we do the handshake; without one we
raise LoginRequired within seconds instead of waiting on a socket that never answers
(§10 quirk 3). Firmware 7.18..7.31 offers the login but does not enforce it, so without a
key we check whether plain requests are answered before giving up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import AuthenticationFailed, LoginRequired, RequestTimeout
from ..protocol import methods
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
    if verified is False:
        if key is None:
            device = await _device_state_or_none(conn, timeouts.login_probe_s)
            if device is None or device.firmware_ver_int >= FIRMWARE_LOGIN_ENFORCED:
                raise LoginRequired(_firmware_text(device), KEY_FILE_SETTING)
            log.warning("firmware %s offers a login but does not enforce it; going on without "
                        "a key", device.firmware_ver_string)
        else:
            logged_in = await handshake(conn, key, timeouts.login_step_s)
    try:
        device = await read_device_state(conn, timeouts.device_state_s)
    except RequestTimeout:
        if conn.last_event_monotonic_s > conn.opened_monotonic_s and not logged_in:
            # §10 quirk 3: events stream but replies are withheld -> a login problem, not a hang.
            if key is None:
                raise LoginRequired(_firmware_text(None), KEY_FILE_SETTING) from None
            logged_in = await handshake(conn, key, timeouts.login_step_s)
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
        reply = await conn.call(methods.pi_is_verified(), timeout_s)
    except RequestTimeout:
        log.debug("pi_is_verified unanswered within %g s; assuming no login is needed", timeout_s)
        return None
    if not reply.ok:
        return None  # 103 on firmware without the login
    result: Any = reply.result
    if isinstance(result, dict):
        result = result.get("is_verified")
    return result if isinstance(result, bool) else None


async def handshake(conn: RpcConnection, key: rsa.RSAPrivateKey, step_timeout_s: float) -> bool:
    """get_verify_str -> sign -> verify_client; True when logged in, False on pre-login firmware."""
    reply = await conn.call(methods.get_verify_str(), step_timeout_s)
    if reply.code == ErrorCode.METHOD_NOT_FOUND:
        log.info("firmware has no login (get_verify_str: 103); going on without")
        return False
    challenge = _challenge(reply)
    signature = sign_challenge(key, challenge)
    answer = await conn.call(methods.verify_client(signature, challenge), step_timeout_s)
    if not answer.ok:
        raise AuthenticationFailed(str(answer.method or Method.VERIFY_CLIENT), answer.code,
                                   answer.error or "signature refused (is it the right key?)")
    log.info("logged in to the Seestar")
    return True


async def read_device_state(conn: RpcConnection, timeout_s: float) -> DeviceState:
    """`get_device_state` with the marker, retried without it on 107/109; CommandFailed otherwise."""
    reply = await conn.call(methods.get_device_state(), timeout_s)
    if reply.code in _MARKER_REFUSED:
        reply = await conn.call(methods.get_device_state(), timeout_s, policy=VerifyPolicy.NONE)
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


def _firmware_text(device: DeviceState | None) -> str:
    if device is not None and device.firmware_ver_string:
        return device.firmware_ver_string
    return "7.32 or later: replies are withheld until login"
