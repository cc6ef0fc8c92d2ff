"""Encrypted, crash-safe storage of each realm's OAuth tokens.

Intuit rotates the refresh token on every refresh and the previous one stops working, so the new
one must be on disk before anything else happens. Writes go to a temp file in the same
directory, are fsync'ed, then atomically renamed over the store and the directory is fsync'ed:
after a crash the store holds either the old or the new tokens, never a torn file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import typing as t
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from tap_quickbooks_online.errors import TokenStoreError

# Keys of chains not (yet) tied to a company: ``pending:<origin>`` (see auth.RealmTokens).
PENDING_PREFIX = "pending:"


class TokenStore:
    """A Fernet-encrypted JSON document: ``{realm_id: {refresh_token, access_token, ...}}``.

    Besides realm ids it holds ``pending:<origin>`` entries: chains rotated for a realm the API
    has not accepted yet, keyed by the configured token they started from.
    """

    def __init__(self, path: str | os.PathLike[str], key: str | bytes) -> None:
        self.path = Path(path)
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as ex:
            msg = (
                "The token store key is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes). Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
            raise TokenStoreError(msg) from ex

    @classmethod
    def from_env(cls, path: str | os.PathLike[str], key_env: str) -> TokenStore:
        key = os.environ.get(key_env)
        if not key:
            msg = (
                f"Environment variable {key_env} must hold the Fernet key of the token store "
                f"{path}. Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
            raise TokenStoreError(msg)
        return cls(path, key)

    @contextlib.contextmanager
    def _locked(self) -> t.Iterator[None]:
        # A sidecar lock file, because the store itself is replaced (new inode) on every write.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read_unlocked(self) -> dict[str, dict[str, t.Any]]:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(self._fernet.decrypt(blob))
        except InvalidToken as ex:
            msg = f"Token store {self.path} cannot be decrypted with the configured key."
            raise TokenStoreError(msg) from ex
        if not isinstance(data, dict):
            msg = f"Token store {self.path} does not hold a JSON object."
            raise TokenStoreError(msg)
        return data

    def load(self, realm_id: str) -> dict[str, t.Any] | None:
        with self._locked():
            return self._read_unlocked().get(realm_id)

    def realms(self) -> list[str]:
        with self._locked():
            return sorted(k for k in self._read_unlocked() if ":" not in k)

    def entries(self) -> dict[str, dict[str, t.Any]]:
        with self._locked():
            return self._read_unlocked()

    def forget(self, realm_id: str) -> None:
        """Drop a realm's entry (a chain adopted by the realm it really belongs to)."""
        with self._locked():
            data = self._read_unlocked()
            if data.pop(realm_id, None) is not None:
                self._write_unlocked(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()))

    def apply(self, puts: dict[str, dict[str, t.Any]], drops: t.Iterable[str] = ()) -> None:
        """Replace the ``puts`` entries and drop ``drops`` in one durable write."""
        with self._locked():
            data = self._read_unlocked()
            for key in drops:
                data.pop(key, None)
            data.update(puts)
            self._write_unlocked(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()))

    def claim(self, key: str, realm_id: str) -> bool:
        """File the pending chain ``key`` under ``realm_id`` for good (the API accepted it there).

        An unconfirmed chain of another origin already filed under the realm is kept as pending
        under its own origin, so the realm it belongs to still finds it. False when ``key`` is
        gone (another process claimed it first).
        """
        with self._locked():
            data = self._read_unlocked()
            entry = data.pop(key, None)
            if entry is None:
                return False
            old = data.get(realm_id) or {}
            if not old.get("confirmed") and old.get("origin") and old["origin"] != entry.get("origin"):
                data[PENDING_PREFIX + str(old["origin"])] = old
            data[realm_id] = {**entry, "confirmed": True}
            self._write_unlocked(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()))
            return True

    def save(self, realm_id: str, tokens: dict[str, t.Any]) -> None:
        """Merge ``tokens`` into the realm's entry; durable when this returns."""
        with self._locked():
            data = self._read_unlocked()
            entry = dict(data.get(realm_id) or {})
            entry.update(tokens)
            data[realm_id] = entry
            self._write_unlocked(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()))

    def _write_unlocked(self, blob: bytes) -> None:
        directory = self.path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o600)
            os.replace(tmp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
