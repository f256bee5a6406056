"""The log's Ed25519 key and the exact text of a checkpoint it signs.

A checkpoint's signed text follows the C2SP tlog-checkpoint layout, one item per line:
origin, tree size, base64 root hash, then the issue time (UTC, microseconds). Anyone can rebuild it from the
checkpoint's JSON fields and check the signature with the published key.
"""

import base64
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from service.settings import Settings, signing_key_bytes

ALGORITHM = "Ed25519"


def origin_of(base_url: str) -> str:
    """The log's name in its checkpoints: the service's address without scheme, e.g. trace.example.vn/transparency."""
    return base_url.split("://", 1)[-1].rstrip("/") + "/transparency"


def time_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes, issued_at: datetime) -> bytes:
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n{time_text(issued_at)}\n".encode()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    """A short name for a public key: the first 8 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_from(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_holds(public_key: Ed25519PublicKey, signature: bytes, text: bytes) -> bool:
    try:
        public_key.verify(signature, text)
    except InvalidSignature:
        return False
    return True


def _private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """LOG_SIGNING_KEY when set; else in development a key kept in a 0600 file under var/, in tests a fresh one.

    Blocking (file I/O): call it off the event loop. Production never gets here without a key (Settings.check).
    """
    if settings.log_signing_key:
        return Ed25519PrivateKey.from_private_bytes(signing_key_bytes(settings.log_signing_key))
    if settings.env != "development":
        return Ed25519PrivateKey.generate()
    path = Path(settings.log_signing_key_file)
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: a second worker starting at the
        # same moment either wins the link or reads the complete file of the first, never half of it.
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(_private_raw(Ed25519PrivateKey.generate())).decode() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return Ed25519PrivateKey.from_private_bytes(signing_key_bytes(path.read_text()))
