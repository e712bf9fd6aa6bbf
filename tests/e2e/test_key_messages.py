"""A login key file that cannot be used (issue 9, item 8): the CONNECT refusal names the file
and the setting, says what the file holds instead and what to do, in whole sentences, and never
quotes the key's content - on the INDI wire and in the driver's log, through the real indiserver."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CASES = {
    "public": (_KEY.public_key().public_bytes(ser.Encoding.PEM,
                                              ser.PublicFormat.SubjectPublicKeyInfo),
               "this file holds a public key, but the login needs the private key"),
    "passphrase": (_KEY.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                      ser.BestAvailableEncryption(b"secret")),
                   "protected by a passphrase; save an unencrypted copy (openssl pkey"),
    "openssh": (_KEY.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                                   ser.NoEncryption()),
                "in OpenSSH format; convert a copy to PEM (ssh-keygen -p -m PEM"),
}


def _key_material(pem: bytes) -> list[str]:
    """Pieces of the file's base64 body that must never be echoed."""
    body = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    return [line[i:i + 16] for line in body for i in range(0, len(line) - 15, 16)]


@pytest.mark.parametrize("case", list(CASES))
def test_an_unusable_key_file_is_explained_whole_and_never_quoted(tmp_path, case):
    pem, says = CASES[case]
    key_file = tmp_path / f"{case}.pem"
    key_file.write_bytes(pem)
    with Rig.start(tmp_path, config={"seestar": {"key_file": str(key_file)}}) as rig:
        since = rig.client.mark()
        rig.client.connectDevice(rig.focuser)
        alert = rig.wait_state(rig.focuser, "CONNECTION", "Alert", since=since, timeout_s=30)
        assert alert.values == {"CONNECT": False, "DISCONNECT": True}
        (text,) = [m for m in rig.messages(rig.focuser, since) if "[ERROR]" in m]
        log = rig.stderr_text()
    assert says in text, text
    assert str(key_file) in text and "seestar.key_file" in text
    assert text.rstrip().endswith("Fix the configuration and connect again"), text  # not cut
    assert "Are you sure this" not in text and "..." not in text, text
    logged = [line for line in log.splitlines() if str(key_file) in line]
    assert logged and all(line.endswith("connect again") or says in line for line in logged)
    for piece in _key_material(pem):
        assert piece not in text and piece not in log
