"""What to tell the user when the Seestar session cannot be opened or is lost.

Layer: devices. Pure: typed errors in, the same kinds of errors out with a message that
says what to do (wrong address, login key needed, scope controlled by the app...).
"""

from __future__ import annotations

from ..errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectFailed,
    ConnectionLost,
    IndiSeestarError,
    LoginRequired,
    NotMaster,
    RequestTimeout,
    SeestarError,
)

ADDRESS_HINT = ("Check DEVICE_ADDRESS (or seestar.host in the configuration), that the Seestar "
                "is switched on and on the same network as this computer")


def where(host: str, port: int) -> str:
    """`host:port` as users type it."""
    return f"{host}:{port}"


def explain(exc: IndiSeestarError, host: str, port: int, config_file: str) -> IndiSeestarError:
    """The same kind of error, with a message that tells the user what to do."""
    at = where(host, port)
    if isinstance(exc, LoginRequired):
        return _with_text(LoginRequired(exc.firmware, exc.config_key),
                          f"the Seestar at {at} requires a login key (firmware {exc.firmware}): "
                          f"set {exc.config_key} in {config_file} to the path of your PEM key "
                          "file, then connect again")
    if isinstance(exc, AuthenticationFailed):
        return AuthenticationFailed(exc.method, exc.code,
                                    f"the Seestar at {at} refused our login ({exc.message}); check "
                                    f"that seestar.key_file in {config_file} names the right key")
    if isinstance(exc, NotMaster):
        return NotMaster(f"{exc.reason}. The Seestar app (or another program) controls the scope "
                         f"at {at}: close the app or release control in it, then connect again")
    if isinstance(exc, ConnectFailed):
        reason = exc.reason
        if isinstance(exc.__cause__, ConnectionRefusedError):
            reason = "nothing accepts connections there (connection refused)"
        return ConnectFailed(exc.host, exc.port, f"{reason}. {ADDRESS_HINT}")
    if isinstance(exc, (ConnectionLost, RequestTimeout)):
        return ConnectFailed(host, port, f"{exc}. {ADDRESS_HINT}; if the Seestar app is busy "
                                         "with the scope (imaging, updating), wait or close it")
    if isinstance(exc, ConfigError) and not isinstance(exc, SeestarError):
        return ConfigError(f"{exc.reason}. Fix the configuration and connect again",
                           path=exc.path, key=exc.key)
    return exc


def _with_text(exc: IndiSeestarError, text: str) -> IndiSeestarError:
    exc.args = (text,)
    return exc


NOT_MASTER_REASON = "another client holds control of the Seestar and it did not hand control over"


def lost_for_good(host: str, port: int, give_up_s: float | None) -> str:
    """CONNECTION message when the session cannot be resumed."""
    at = where(host, port)
    if give_up_s is None:
        return (f"the Seestar session at {at} failed and cannot be resumed (see the driver log); "
                "fix the cause and connect again")
    return (f"lost the connection to the Seestar at {at} and could not reconnect within "
            f"{give_up_s:g} s. {ADDRESS_HINT}, then connect again")
