"""Secrets a development machine makes for itself on first run and keeps under var/ (never in the source)."""

import contextlib
import json
import os
import secrets
from pathlib import Path


class SecretsFileError(Exception):
    """The secrets file exists but cannot be used; the message is one line for the operator."""


def load_or_create(path: str | Path) -> dict[str, str]:
    """The secrets stored at `path`, created (mode 0600, atomically) with fresh random values if missing.

    Several workers may start at once: each writes a private temporary file and links it into place;
    the first link wins and the others read what it wrote, so every worker signs with the same secret.
    """
    target = Path(path)
    try:
        return _read(target)
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = {"jwt_secret": secrets.token_urlsafe(48)}
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(fresh, out)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(target)


def _read(target: Path) -> dict[str, str]:
    mode = target.stat().st_mode
    if mode & 0o077:
        raise SecretsFileError(f"{target} is readable by other users; run: chmod 600 {target}")
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SecretsFileError(f"{target} is not valid JSON; delete it to make new secrets") from exc
    if not isinstance(data, dict) or not isinstance(data.get("jwt_secret"), str):
        raise SecretsFileError(f"{target} has no jwt_secret; delete it to make new secrets")
    return {str(k): str(v) for k, v in data.items()}
