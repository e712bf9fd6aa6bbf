"""Firmware login (§6): sign the challenge with the user's RSA key (PKCS#1 v1.5 over SHA-1).

Layer: protocol (sans-I/O, pure functions). The key is always supplied by the user; none is
shipped. `verify_signature` is what the fake Seestar uses with the public half.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import ConfigError, RemoteProtocolError


def load_private_key(pem: bytes, *, source: str = "key") -> rsa.RSAPrivateKey:
    """Parse an unencrypted PKCS#1 or PKCS#8 PEM RSA private key; ConfigError when unusable."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"not an unencrypted PEM private key ({str(exc)[:80]})", path=source) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("the login key must be an RSA key", path=source)
    return key


def sign_challenge(key: rsa.RSAPrivateKey, challenge: str) -> str:
    """Base64 of the PKCS#1 v1.5 SHA-1 signature of the challenge's UTF-8 bytes.

    RemoteProtocolError when the challenge has no UTF-8 form (JSON can carry lone surrogates).
    """
    try:
        data = challenge.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RemoteProtocolError("login challenge is not valid Unicode text") from exc
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    return base64.b64encode(signature).decode("ascii")


def load_public_key(pem: bytes, *, source: str = "public key") -> rsa.RSAPublicKey:
    """Parse a PEM RSA public key (SubjectPublicKeyInfo or PKCS#1)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"not a PEM public key ({str(exc)[:80]})", path=source) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError("the login key must be an RSA key", path=source)
    return key


def verify_signature(key: rsa.RSAPublicKey, challenge: str, signature_b64: str) -> bool:
    """True when `signature_b64` is a valid signature of `challenge` by the private half."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, challenge.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
