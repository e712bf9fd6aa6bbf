"""Firmware login (§6.2): RSA PKCS#1 v1.5 / SHA-1 over the challenge, with test-generated keys."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from indi_seestar.errors import ConfigError, RemoteProtocolError
from indi_seestar.protocol import auth

CHALLENGE = "3f9c2a71e4b0d8a5"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat,
                password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption)


def public_pem(key: rsa.RSAPrivateKey, fmt: serialization.PublicFormat) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt)


@pytest.mark.parametrize("fmt, marker", [
    (serialization.PrivateFormat.TraditionalOpenSSL, b"-----BEGIN RSA PRIVATE KEY-----"),  # PKCS#1
    (serialization.PrivateFormat.PKCS8, b"-----BEGIN PRIVATE KEY-----"),
])
def test_sign_with_pkcs1_or_pkcs8_pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat,
                                      marker: bytes) -> None:
    pem = private_pem(key, fmt)
    assert pem.startswith(marker)
    loaded = auth.load_private_key(pem)
    signature = auth.sign_challenge(loaded, CHALLENGE)
    # Checked independently of auth.verify_signature: PKCS#1 v1.5, SHA-1, the UTF-8 bytes.
    key.public_key().verify(base64.b64decode(signature, validate=True), CHALLENGE.encode("utf-8"),
                            padding.PKCS1v15(), hashes.SHA1())
    assert len(base64.b64decode(signature)) == 256
    assert auth.sign_challenge(loaded, CHALLENGE) == signature  # PKCS#1 v1.5 is deterministic


@pytest.mark.parametrize("fmt", [serialization.PublicFormat.SubjectPublicKeyInfo,
                                 serialization.PublicFormat.PKCS1])
def test_verify_with_either_public_pem(key: rsa.RSAPrivateKey, fmt: serialization.PublicFormat) -> None:
    public = auth.load_public_key(public_pem(key, fmt))
    signature = auth.sign_challenge(key, CHALLENGE)
    assert auth.verify_signature(public, CHALLENGE, signature) is True


def test_non_ascii_challenge_is_signed_as_utf8(key: rsa.RSAPrivateKey) -> None:
    signature = auth.sign_challenge(key, "d\u00e9fi-\u661f")
    assert auth.verify_signature(key.public_key(), "d\u00e9fi-\u661f", signature)
    assert not auth.verify_signature(key.public_key(), "defi-?", signature)


def test_challenge_with_a_lone_surrogate_is_a_protocol_error(key: rsa.RSAPrivateKey) -> None:
    """JSON may carry "\\ud800"; such a challenge has no UTF-8 bytes to sign."""
    challenge = json.loads('{"str":"ab\\ud800"}')["str"]
    with pytest.raises(RemoteProtocolError):
        auth.sign_challenge(key, challenge)
    assert auth.verify_signature(key.public_key(), challenge, auth.sign_challenge(key, "ab")) is False


def test_wrong_challenge_bad_base64_and_wrong_key_are_false(key: rsa.RSAPrivateKey) -> None:
    public = key.public_key()
    good = auth.sign_challenge(key, CHALLENGE)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raw = bytearray(base64.b64decode(good))
    raw[-1] ^= 1
    for challenge, signature in [
        (CHALLENGE + "x", good),
        ("", good),
        (CHALLENGE, "not base64!"),
        (CHALLENGE, good[:-4]),  # valid base64, short signature
        (CHALLENGE, good + "AAAA"),
        (CHALLENGE, ""),
        (CHALLENGE, "\u00e9\u00e9\u00e9\u00e9"),
        (CHALLENGE, base64.b64encode(bytes(raw)).decode()),
        (CHALLENGE, auth.sign_challenge(other, CHALLENGE)),
    ]:
        assert auth.verify_signature(public, challenge, signature) is False, (challenge, signature)


def test_encrypted_key_is_a_config_error(key: rsa.RSAPrivateKey) -> None:
    pem = private_pem(key, serialization.PrivateFormat.PKCS8, password=b"secret")
    with pytest.raises(ConfigError, match="protected by a passphrase; save an unencrypted copy") as info:
        auth.load_private_key(pem, source="/home/me/seestar.pem")
    assert info.value.path == "/home/me/seestar.pem"


def test_non_rsa_keys_are_config_errors() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ConfigError, match="must be an RSA key"):
        auth.load_private_key(private_pem(ec_key, serialization.PrivateFormat.PKCS8))
    ec_public = ec_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ConfigError, match="must be an RSA key"):
        auth.load_public_key(ec_public)


@pytest.mark.parametrize("pem", [b"", b"garbage", b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                                 "not bytes"])
def test_unusable_private_key_material_is_a_config_error(pem: bytes) -> None:
    with pytest.raises(ConfigError):
        auth.load_private_key(pem)  # type: ignore[arg-type]


def test_public_key_is_not_a_private_key(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError):
        auth.load_private_key(public_pem(key, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ConfigError):
        auth.load_public_key(private_pem(key, serialization.PrivateFormat.PKCS8))
