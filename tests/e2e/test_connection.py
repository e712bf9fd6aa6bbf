"""Opening, sharing and losing the Seestar session, as an INDI client sees it: the three failure
messages (wrong address, login key needed, scope controlled by the app), login with a key,
reconnects, a session lost for good, discovery, and configuration errors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from indi_seestar.protocol import builders_session
from indi_seestar.protocol.codes import ErrorCode
from indi_seestar.protocol.methods import Method
from tests.support.app import AppConnection
from tests.support.indi_harness import free_port, until
from tests.support.rig import Rig, write_config

pytestmark = pytest.mark.e2e


def _fake_clients(rig: Rig) -> list[str]:
    return rig.fake_call(lambda: [c.name for c in rig.fake.state.clients.values()])


def _connect_fails(rig: Rig, device: str) -> str:
    """CONNECT `device`, expect CONNECTION Alert with DISCONNECT On; return the error message."""
    since = rig.client.mark()
    rig.client.connectDevice(device)
    alert = rig.wait_state(device, "CONNECTION", "Alert", since=since, timeout_s=60)
    assert alert.values == {"CONNECT": False, "DISCONNECT": True}
    assert rig.states(device, "CONNECTION", since)[0] == "Busy"
    errors = [m for m in rig.messages(device, since) if "[ERROR]" in m]
    assert errors, "a failed connection must say why"
    return errors[-1]


def _set_address(rig: Rig, host: str, port: int) -> None:
    since = rig.client.mark()
    rig.client.send_text(rig.mount, "DEVICE_ADDRESS", {"ADDRESS": host, "PORT": str(port)})
    for device in rig.devices:  # mirrored on all four devices
        done = rig.wait_state(device, "DEVICE_ADDRESS", "Ok", since=since)
        assert done.values == {"ADDRESS": host, "PORT": str(port)}


@pytest.fixture(scope="module")
def login_key(tmp_path_factory):
    """A test-generated login key pair; the user's real key is never in this repository."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("key") / "seestar.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public


def test_wrong_address_says_what_to_check_and_a_corrected_address_connects(tmp_path):
    with Rig.start(tmp_path) as rig:
        closed = free_port()
        _set_address(rig, "127.0.0.1", closed)
        text = _connect_fails(rig, rig.focuser)
        assert f"cannot reach the Seestar at 127.0.0.1:{closed}" in text
        assert "connection refused" in text and "Check DEVICE_ADDRESS" in text
        assert rig.fake.faults.counters.connections["control"] == 0

        _set_address(rig, "127.0.0.1", rig.fake.control_port)
        rig.client.connect_device(rig.focuser)
        assert rig.fake.faults.counters.connections["control"] == 1


def test_firmware_732_without_a_key_names_the_setting(tmp_path, login_key):
    _path, public = login_key
    with Rig.start(tmp_path, firmware="7.32", public_key_pem=public) as rig:
        text = _connect_fails(rig, rig.camera)
        assert "requires a login key" in text
        assert "seestar.key_file" in text and str(rig.config_path) in text
        assert rig.fake.faults.counters.login_attempts == 0
        until(lambda: _fake_clients(rig) == [], 10, what="the refused session to be closed")


def test_firmware_732_with_the_users_key_logs_in(tmp_path, login_key):
    path, public = login_key
    with Rig.start(tmp_path, firmware="7.32", public_key_pem=public,
                   config={"seestar": {"key_file": str(path)}}) as rig:
        rig.connect_all()
        assert rig.fake.faults.counters.login_successes == 1
        since = rig.client.mark()
        rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 3})
        assert rig.wait_state(rig.wheel, "FILTER_SLOT", "Ok", since=since).values == {
            "FILTER_SLOT_VALUE": 3}


def test_a_wrong_key_is_named_as_the_problem(tmp_path, login_key):
    _path, public = login_key
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = tmp_path / "not-the-key.pem"
    wrong.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    with Rig.start(tmp_path, firmware="7.32", public_key_pem=public,
                   config={"seestar": {"key_file": str(wrong)}}) as rig:
        text = _connect_fails(rig, rig.focuser)
        assert "refused our login" in text and "names the right key" in text
        assert rig.fake.faults.counters.login_attempts == 1
        assert rig.fake.faults.counters.login_successes == 0


def test_a_scope_controlled_by_the_app_is_refused_with_advice(tmp_path):
    with Rig.start(tmp_path) as rig, AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_session.claim_master("phoneapp")).ok  # the app holds control
        # ... and the firmware does not hand it over to us
        rig.fake.faults.fail_next(Method.SET_SETTING, ErrorCode.NOT_SUPPORTED, "not supported")
        text = _connect_fails(rig, rig.mount)
        assert "another client holds control of the Seestar" in text
        assert "close the app or release control in it" in text
        until(lambda: len(_fake_clients(rig)) == 1, 10, what="our refused session to be closed")

        app.close()  # the user closes the app: now we get control
        until(lambda: _fake_clients(rig) == [], 10, what="the app to go")
        rig.client.connect_device(rig.mount)


def test_reconnect_is_announced_and_a_session_lost_for_good_alerts_every_device(tmp_path):
    with Rig.start(tmp_path, config={"seestar": {"reconnect_give_up_s": 4}}) as rig:
        rig.connect_all()
        since = rig.client.mark()
        rig.fake.faults.drop_control()  # a Wi-Fi hiccup: the engine reconnects
        until(lambda: all(any("reconnected to the Seestar" in m for m in rig.messages(d, since))
                          for d in rig.devices), 30, what="the reconnect notice")
        assert all(any("reconnecting" in m for m in rig.messages(d, since)) for d in rig.devices)
        assert all(rig.client.updates(d, "CONNECTION")[-1].state == "Ok" for d in rig.devices)

        since = rig.client.mark()
        rig.fake.faults.refuse_connections(True)
        rig.fake.faults.drop_control()  # the scope is gone for good
        for device in rig.devices:
            alert = rig.wait_state(device, "CONNECTION", "Alert", since=since, timeout_s=30)
            assert alert.values["DISCONNECT"]
            assert any("could not reconnect within 4 s" in m for m in rig.messages(device, since))
        for device, connected_only in ((rig.focuser, "ABS_FOCUS_POSITION"), (rig.wheel, "FILTER_SLOT")):
            assert rig.client.updates(device, connected_only, event="del", since=since)
        until(lambda: _fake_clients(rig) == [], 10, what="the session to be closed")

        rig.fake.faults.refuse_connections(False)
        rig.client.connect_device(rig.focuser, timeout_s=30)


def test_discovery_fills_device_address(tmp_path):
    with Rig.start(tmp_path) as rig:
        _set_address(rig, "seestar.invalid", 4700)
        since = rig.client.mark()
        rig.client.send_switch(rig.wheel, "SEESTAR_DISCOVER", ["DISCOVER"])
        done = rig.client.wait(lambda u: u.name == "SEESTAR_DISCOVER" and u.state in ("Ok", "Alert"),
                               timeout_s=20, since=since)
        assert done.state == "Ok" and not done.values["DISCOVER"]
        assert any("found Seestar S50 at 127.0.0.1" in m for m in rig.messages(rig.wheel, since))
        for device in rig.devices:
            address = rig.client.updates(device, "DEVICE_ADDRESS")[-1].values
            assert address == {"ADDRESS": "127.0.0.1", "PORT": str(rig.fake.control_port)}
        assert rig.fake.faults.counters.connections["discovery"] >= 1
        rig.client.connect_device(rig.focuser)


@pytest.mark.parametrize(("bad", "expected"), [
    ({"seestar": {"hostname": "10.0.0.1"}}, "seestar.hostname: unknown key 'hostname'"),
    ({"seestar": {"control_port": "forty-seven hundred"}}, "seestar.control_port: wrong type str"),
])
def test_configuration_errors_are_explained_and_the_driver_stays_up(tmp_path, bad, expected):
    with Rig.start(tmp_path, config=bad) as rig:
        assert expected in rig.stderr_text()
        text = _connect_fails(rig, rig.focuser)
        assert expected in text and "Fix the configuration" in text
        assert rig.fake.faults.counters.connections["control"] == 0

        write_config(rig.config_path, rig.fake)  # the user fixes the file: no restart needed
        rig.client.connect_device(rig.focuser)
        assert rig.fake.faults.counters.connections["control"] == 1
