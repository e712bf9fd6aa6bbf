"""The scope's clock as a user sees it: set at CONNECT without any TIME_UTC, a client's wins after.

docs/firmware.md fact 1: a scope fresh from power-on has a stale clock and does not slew; the
driver used to send nothing until a client wrote TIME_UTC, and 7.06+ refused what it sent (107).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from indi_seestar.sim.profile import Profile
from tests.e2e.mount_support import connect_mount, latest, wait_set
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e


def _login(tmp_path, firmware: str) -> dict:
    """Fake and driver options for a firmware that wants a login (a test-generated key)."""
    if not Profile.make("S50", firmware).login_required:
        return {}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "seestar.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"public_key_pem": public, "config": {"seestar": {"key_file": str(path)}}}


@pytest.mark.parametrize("firmware", ["7.06", "8.46"])
def test_connect_sets_a_stale_scope_clock_and_a_clients_time_wins(tmp_path, firmware):
    with Rig.start(tmp_path, firmware=firmware, **_login(tmp_path, firmware)) as rig:
        rig.fake_call(rig.fake.clock.set_utc, datetime(2020, 1, 1, tzinfo=UTC))
        connect_mount(rig)
        scope_utc = rig.fake_call(rig.fake.clock.utc)
        assert abs((scope_utc - datetime.now(UTC)).total_seconds()) < 5
        shown = latest(rig, "TIME_UTC")
        assert shown.state == "Ok"
        shown_utc = datetime.fromisoformat(shown.values["UTC"]).replace(tzinfo=UTC)
        assert abs((shown_utc - datetime.now(UTC)).total_seconds()) < 10
        when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        since = rig.client.mark()
        rig.client.send_text(rig.mount, "TIME_UTC", {"UTC": when.strftime("%Y-%m-%dT%H:%M:%S"), "OFFSET": "1"})
        assert wait_set(rig, "TIME_UTC", since).state == "Ok"
        scope_utc = rig.fake_call(rig.fake.clock.utc)
        assert abs((scope_utc - when).total_seconds()) < 5
