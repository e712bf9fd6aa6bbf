"""Firmware login (§6): sign the challenge with the user's RSA key (PKCS#1 v1.5 over SHA-1).

Layer: protocol (sans-I/O, pure functions). The key is always supplied by the user; none is
shipped. `verify_signature` is what the fake Seestar uses with the public half.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from ..errors import ConfigError, RemoteProtocolError
from ..text import shorten


#: What a usable login key file looks like, for the messages below.
_PRIVATE_PEM = "-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----"
#: A library reason appended to a message is cut at a word to this many characters.
_REASON_CHARS = 160


def load_private_key(pem: bytes, *, source: str = "key") -> rsa.RSAPrivateKey:
    """Parse an unencrypted PKCS#1 or PKCS#8 PEM RSA private key; ConfigError when unusable.

    The error says what the file holds instead (public key, passphrase, OpenSSH format, no PEM)
    and what to do; it names the file through `path` and never quotes the file's content.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(_why_not_a_private_key(pem, exc), path=source) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"the login key must be an RSA key; this file holds a {_kind(key)} key",
                          path=source)
    return key


def _why_not_a_private_key(pem: object, exc: Exception) -> str:
    """A complete sentence on why `pem` is no usable login key, from its PEM labels only."""
    labels = _pem_labels(pem)
    want = f"a text file starting with {_PRIVATE_PEM}"
    if any("PRIVATE" not in label and "PUBLIC" in label for label in labels):
        return (f"this file holds a public key, but the login needs the private key ({want}); "
                "name the private key's file instead")
    if any("ENCRYPTED" in label for label in labels) or b"Proc-Type: 4,ENCRYPTED" in _bytes(pem):
        return ("the private key is protected by a passphrase; save an unencrypted copy "
                "(openssl pkey -in KEY -out KEY.plain.pem) and name that file")
    if "OPENSSH PRIVATE KEY" in labels:
        return ("the private key is in OpenSSH format; convert a copy to PEM "
                "(ssh-keygen -p -m PEM -f COPY) and name that file")
    if not labels:
        return f"no PEM key found in this file; the login needs {want}"
    reason = shorten(str(exc), _REASON_CHARS) if isinstance(exc, ValueError) else type(exc).__name__
    return f"not a usable unencrypted RSA private key ({reason}); the login needs {want}"


def _bytes(pem: object) -> bytes:
    return bytes(pem) if isinstance(pem, (bytes, bytearray, memoryview)) else b""


def _pem_labels(pem: object) -> list[str]:
    """The labels of the PEM blocks in `pem` (e.g. "RSA PRIVATE KEY"), nothing of their content."""
    found = re.findall(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----", _bytes(pem))
    return [label.decode("ascii") for label in found]


def _kind(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "elliptic-curve"
    if isinstance(key, dsa.DSAPrivateKey):
        return "DSA"
    return "Ed25519 or Ed448" if isinstance(key, (ed25519.Ed25519PrivateKey,
                                                   ed448.Ed448PrivateKey)) else "non-RSA"


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
        reason = shorten(str(exc), _REASON_CHARS)
        raise ConfigError(f"not a PEM public key ({reason})", path=source) from None
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
