"""Exchange credentials that sign without ever showing their secret.

One type, :class:`Credentials`, holds an API key and either an HMAC secret or a private key
(Ed25519, ECDSA P-256 or RSA), plus the OKX passphrase where a venue needs one. It signs bytes
through methods (:meth:`Credentials.hmac_sha256_hex`, :meth:`Credentials.sign`, ...) so that the
venue modules never need the secret itself.

Leak rules this module keeps:

* ``repr``, ``str`` and ``format`` of a :class:`Credentials` show the key type and a masked API
  key, never a secret; pickling is refused; ``copy``/``deepcopy`` return the same object.
* Secret material is held in :class:`_Redacted` (a ``bytes`` subclass whose ``repr``/``str``
  say ``<redacted>``), so tracebacks that capture frame locals do not print it either.
* Error messages name the variable, file or key type at fault, never a value; errors are raised
  outside ``except`` blocks so that no chained exception carries a parser's view of the secret.

Python cannot guarantee that secret bytes are wiped from memory (strings are immutable and the
garbage collector copies nothing back to zero); this module does not pretend to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, NoReturn, final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from rentrade._fastcore import HmacSha256

__all__ = ["Credentials", "CredentialsError", "KeyType"]

KeyType = Literal["hmac", "ed25519", "ecdsa_p256", "rsa"]

_SHA512_BLOCK: Final = 128


class CredentialsError(ValueError):
    """Credentials are missing, malformed, unsafe on disk, or the wrong kind for a venue.

    The message says what to fix; it never contains a secret.
    """


class _Redacted(bytes):
    """Secret bytes whose ``repr``/``str`` never show the value (e.g. in captured tracebacks)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("secret bytes cannot be pickled")


def _redact(value: str | bytes) -> _Redacted:
    # The caller passes the raw value inline, so no frame of ours holds it under a plain name.
    return _Redacted(value.encode("utf-8") if isinstance(value, str) else value)


class _HmacKey:
    """HMAC (RFC 2104) with the inner and outer pads hashed once, copied per message.

    Used for HMAC-SHA512 (Kraken Futures). HMAC-SHA256, on every order of Binance, Bybit and OKX, uses
    the core's :class:`rentrade._fastcore.HmacSha256` instead; both are byte-identical to ``hmac``.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, hash_new: Callable[..., Any], block_size: int) -> None:
        if len(key) > block_size:
            key = hash_new(key).digest()
        padded = key.ljust(block_size, b"\0")
        self._inner = hash_new(bytes(b ^ 0x36 for b in padded))
        self._outer = hash_new(bytes(b ^ 0x5C for b in padded))

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()  # type: ignore[no-any-return]

    def hexdigest(self, msg: bytes) -> str:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return "<hmac key redacted>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("HMAC keys cannot be pickled")


_PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _load_private_key(material: _Redacted, password: _Redacted | None) -> _PrivateKey:
    """Parse PEM, DER, or base64 raw Ed25519 (32-byte seed or 64-byte seed+public) key material."""
    loaded: object = None
    stripped = _Redacted(material.strip())  # bytes methods return plain bytes: re-wrap
    if stripped.startswith(b"-----BEGIN"):
        try:
            loaded = serialization.load_pem_private_key(bytes(stripped), password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            loaded = None
    else:
        raw: bytes | None
        try:
            raw = _Redacted(base64.b64decode(b"".join(stripped.split()), validate=True))
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None and len(raw) in (32, 64):
            loaded = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
        elif raw is not None:
            try:
                loaded = serialization.load_der_private_key(raw, password=password)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                loaded = None
    if loaded is None:
        raise CredentialsError(
            "the private key could not be parsed: expected an unencrypted (or password-given) PEM "
            "or DER PKCS#8 / SEC1 key, or a base64 Ed25519 seed; regenerate or re-export it"
        )
    return _check_key_object(loaded)


def _check_key_object(key: object) -> _PrivateKey:
    if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise CredentialsError(f"ECDSA keys must be on P-256 (secp256r1) for ES256, not {key.curve.name}")
        return key
    raise CredentialsError(
        f"unsupported private key type {type(key).__name__}: use Ed25519, ECDSA P-256 or RSA"
    )


class _EnvView:
    """Read access to an environment mapping whose ``repr`` does not list its contents."""

    __slots__ = ("_env",)

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def get(self, name: str) -> str | None:
        return self._env.get(name)

    def __getitem__(self, name: str) -> str:
        return self._env[name]

    def __repr__(self) -> str:
        return "<environment>"


def _mask(api_key: str) -> str:
    if len(api_key) <= 8:
        return "***"
    return f"{api_key[:4]}...{api_key[-3:]}"


@final
class Credentials:
    """An API key with its HMAC secret or private key, and an optional passphrase.

    Parameters
    ----------
    api_key
        The public API key (Coinbase: the key name ``organizations/.../apiKeys/...``).
    secret
        The HMAC secret as the exchange shows it (Kraken Futures: its base64 text, decoded
        when signing). Mutually exclusive with ``private_key``.
    private_key
        An Ed25519, ECDSA P-256 or RSA private key: PEM or DER bytes/text, a base64 Ed25519 seed
        (32 bytes, or Coinbase's 64-byte seed+public form), or a ``cryptography`` key object.
    passphrase
        The OKX API passphrase; sent in a header, so treated as secret everywhere else.
    private_key_password
        Password of an encrypted PEM/DER private key.

    Raises
    ------
    CredentialsError
        If the key is empty, both or neither of ``secret``/``private_key`` is given, or the
        private key cannot be parsed. The message never contains the secret.

    Notes
    -----
    Instances are immutable, cannot be pickled, and ``copy``/``deepcopy`` return the same
    object. HMAC pads are hashed once at construction (cost: two SHA-256 blocks), so signing a
    message costs only its own blocks and no key schedule; HMAC-SHA256 runs in the compiled core.
    """

    __slots__ = (
        "_api_key",
        "_hmac256",
        "_hmac512_b64",
        "_key_type",
        "_passphrase",
        "_private_key",
        "_secret",
    )

    _api_key: str
    _secret: _Redacted | None
    _private_key: _PrivateKey | None
    _passphrase: _Redacted | None
    _key_type: KeyType
    _hmac256: HmacSha256 | None
    _hmac512_b64: _HmacKey | None

    def __init__(
        self,
        api_key: str,
        *,
        secret: str | bytes | None = None,
        private_key: str | bytes | _PrivateKey | None = None,
        passphrase: str | bytes | None = None,
        private_key_password: str | bytes | None = None,
    ) -> None:
        # Rebind every secret parameter to its redacted form first, so a traceback that captures
        # this frame's locals shows "<redacted>" and not the value.
        secret = _redact(secret) if secret is not None else None
        passphrase = _redact(passphrase) if passphrase is not None else None
        private_key_password = _redact(private_key_password) if private_key_password is not None else None
        if isinstance(private_key, str | bytes):
            private_key = _redact(private_key)

        if not isinstance(api_key, str) or not api_key.strip():
            raise CredentialsError("api_key is empty: set the exchange's API key")
        if (secret is None) == (private_key is None):
            raise CredentialsError("give exactly one of secret (HMAC) or private_key (Ed25519/ECDSA/RSA)")
        if secret is not None and not secret:
            raise CredentialsError("secret is empty: set the exchange's API secret")

        key_obj: _PrivateKey | None = None
        key_type: KeyType = "hmac"
        if isinstance(private_key, _Redacted):
            key_obj = _load_private_key(private_key, private_key_password)
        elif private_key is not None:
            key_obj = _check_key_object(private_key)
        if isinstance(key_obj, ed25519.Ed25519PrivateKey):
            key_type = "ed25519"
        elif isinstance(key_obj, ec.EllipticCurvePrivateKey):
            key_type = "ecdsa_p256"
        elif isinstance(key_obj, rsa.RSAPrivateKey):
            key_type = "rsa"

        setter = object.__setattr__
        setter(self, "_api_key", api_key.strip())
        setter(self, "_secret", secret)
        setter(self, "_private_key", key_obj)
        setter(self, "_passphrase", passphrase if passphrase else None)
        setter(self, "_key_type", key_type)
        setter(self, "_hmac256", HmacSha256(secret) if secret else None)
        setter(self, "_hmac512_b64", None)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_env(cls, prefix: str, environ: Mapping[str, str] | None = None) -> Credentials:
        """Load credentials from environment variables named ``{PREFIX}_API_KEY`` and so on.

        Reads ``{PREFIX}_API_KEY`` (required), exactly one of ``{PREFIX}_API_SECRET`` or
        ``{PREFIX}_PRIVATE_KEY`` (PEM text or base64 Ed25519 seed) or ``{PREFIX}_PRIVATE_KEY_FILE``
        (a path, checked like :meth:`from_file`), and optionally ``{PREFIX}_PASSPHRASE`` and
        ``{PREFIX}_PRIVATE_KEY_PASSWORD``.

        Parameters
        ----------
        prefix
            Variable prefix such as ``"RENTRADE_BINANCE"`` (a trailing ``_`` is optional).
        environ
            Mapping to read instead of ``os.environ`` (for tests).

        Raises
        ------
        CredentialsError
            If a required variable is missing or empty; the message names the variable.
        """
        # A view with a redacted repr: a traceback that captures locals must not print os.environ.
        env = _EnvView(os.environ if environ is None else environ)
        p = prefix if prefix.endswith("_") else prefix + "_"
        key_name, secret_name, pk_name = p + "API_KEY", p + "API_SECRET", p + "PRIVATE_KEY"
        if not env.get(key_name):
            raise CredentialsError(f"environment variable {key_name} is not set or empty")
        given = [n for n in (secret_name, pk_name, pk_name + "_FILE") if env.get(n)]
        if len(given) != 1:
            raise CredentialsError(
                f"set exactly one of {secret_name}, {pk_name} or {pk_name}_FILE (found {len(given)})"
            )
        # Values go straight into the constructor (which redacts them) without a local name here.
        if given[0] == secret_name:
            return cls(
                env[key_name],
                secret=_redact(env[secret_name]),
                passphrase=_redact(env[p + "PASSPHRASE"]) if env.get(p + "PASSPHRASE") else None,
            )
        if given[0] == pk_name:
            return cls(
                env[key_name],
                private_key=_redact(env[pk_name]),
                passphrase=_redact(env[p + "PASSPHRASE"]) if env.get(p + "PASSPHRASE") else None,
                private_key_password=(
                    _redact(env[p + "PRIVATE_KEY_PASSWORD"]) if env.get(p + "PRIVATE_KEY_PASSWORD") else None
                ),
            )
        return cls(
            env[key_name],
            private_key=_read_private_file(env[pk_name + "_FILE"]),
            passphrase=_redact(env[p + "PASSPHRASE"]) if env.get(p + "PASSPHRASE") else None,
            private_key_password=(
                _redact(env[p + "PRIVATE_KEY_PASSWORD"]) if env.get(p + "PRIVATE_KEY_PASSWORD") else None
            ),
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Credentials:
        """Load credentials from a JSON file readable by its owner only.

        The file holds an object with ``api_key`` and one of ``api_secret`` or ``private_key``
        (PEM text or base64 Ed25519 seed), and optionally ``passphrase`` and
        ``private_key_password``.

        Parameters
        ----------
        path
            File to read. It must not be readable or writable by group or others.

        Raises
        ------
        CredentialsError
            If the file is missing, group/other-accessible (the message says ``chmod 600 PATH``),
            not a JSON object, or lacks a field. The message never quotes the file's content.
        """
        raw = _read_private_file(path)
        fields: dict[str, _Redacted | str] | None = _parse_json_fields(raw)
        del raw
        if fields is None:
            raise CredentialsError(f"{os.fspath(path)} is not a JSON object of string fields")
        api_key = fields.get("api_key")
        if not isinstance(api_key, str):
            raise CredentialsError(f'{os.fspath(path)} has no "api_key" string field')
        secret = fields.get("api_secret")
        private_key = fields.get("private_key")
        passphrase = fields.get("passphrase")
        password = fields.get("private_key_password")
        del fields
        return cls(
            api_key,
            secret=secret,
            private_key=private_key,
            passphrase=passphrase,
            private_key_password=password,
        )

    # ------------------------------------------------------------------ public, non-secret facts

    @property
    def api_key(self) -> str:
        """The public API key, as sent in the venue's key header."""
        return self._api_key

    @property
    def key_type(self) -> KeyType:
        """``"hmac"``, ``"ed25519"``, ``"ecdsa_p256"`` or ``"rsa"``."""
        return self._key_type

    @property
    def has_passphrase(self) -> bool:
        """Whether a passphrase (OKX) was given."""
        return self._passphrase is not None

    def passphrase_for_header(self) -> str:
        """The passphrase text, for the one place it must go: the venue's passphrase header.

        Raises
        ------
        CredentialsError
            If no passphrase was given.
        """
        if self._passphrase is None:
            raise CredentialsError("this venue needs an API passphrase: set {PREFIX}_PASSPHRASE")
        return self._passphrase.decode("utf-8")

    def public_key(self) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
        """The public half of the private key (for verifying signatures in tests and tooling).

        Raises
        ------
        CredentialsError
            For HMAC credentials, which have no public key.
        """
        if self._private_key is None:
            raise CredentialsError("HMAC credentials have no public key")
        return self._private_key.public_key()

    # ------------------------------------------------------------------ signing primitives

    def require(self, *allowed: KeyType, venue: str) -> None:
        """Raise :class:`CredentialsError` unless this key type is one ``venue`` accepts."""
        if self._key_type not in allowed:
            raise CredentialsError(
                f"{venue} does not accept {self._key_type} keys; it accepts: {', '.join(allowed)}"
            )

    def _require_hmac256(self) -> HmacSha256:
        if self._hmac256 is None:
            raise CredentialsError(
                f"HMAC signing needs an API secret, but these credentials hold a {self._key_type} key"
            )
        return self._hmac256

    def hmac_sha256(self, msg: bytes) -> bytes:
        """HMAC-SHA256 of ``msg`` under the secret (32 raw bytes). Cost: the message's blocks + 2."""
        return self._require_hmac256().digest(msg)

    def hmac_sha256_hex(self, msg: bytes) -> str:
        """HMAC-SHA256 of ``msg`` under the secret, as lowercase hex."""
        return self._require_hmac256().hexdigest(msg)

    def hmac_sha256_signer(self) -> HmacSha256:
        """The compiled HMAC-SHA256 signer of this secret, for the core's order encoders.

        It signs but cannot reveal the secret (it holds only the hashed pads and shows nothing of them).
        """
        return self._require_hmac256()

    def hmac_sha256_signed_form(self, params: dict[str, str], tail: str, signature_name: str) -> bytes | None:
        """Encode, sign and finish a form in one compiled call: ``k=v&...&tail&<signature_name>=<hex>``.

        The MAC covers everything before ``&<signature_name>=``. Returns ``None`` (nothing signed) when a
        name or value is not a ``str`` of RFC 3986 unreserved characters: encode those with
        :func:`rentrade.signing.encode_query` and sign with :meth:`hmac_sha256_hex` instead.
        """
        mac = self._hmac256  # read directly: this is the per-order path
        if mac is None:
            mac = self._require_hmac256()  # raises, naming the key type
        return mac.signed_form(params, tail, signature_name)

    def hmac_sha512_b64key(self, msg: bytes) -> bytes:
        """HMAC-SHA512 of ``msg`` keyed by the base64-*decoded* secret (Kraken's scheme).

        The decoded key's pads are prepared on first use and kept.

        Raises
        ------
        CredentialsError
            If the secret is not valid base64.
        """
        if self._secret is None:
            raise CredentialsError(
                f"HMAC signing needs an API secret, but these credentials hold a {self._key_type} key"
            )
        key = self._hmac512_b64
        if key is None:
            decoded: bytes | None
            try:
                decoded = _Redacted(base64.b64decode(bytes(self._secret), validate=True))
            except (binascii.Error, ValueError):
                decoded = None
            if not decoded:
                raise CredentialsError(
                    "the API secret is not valid base64, as Kraken issues it; copy it again"
                )
            key = _HmacKey(decoded, hashlib.sha512, _SHA512_BLOCK)
            object.__setattr__(self, "_hmac512_b64", key)
        return key.digest(msg)

    def sign(self, msg: bytes) -> bytes:
        """Sign ``msg`` with the private key.

        Ed25519: the 64-byte signature. ECDSA P-256: SHA-256, as the 64-byte ``r || s`` that JWS
        (ES256) uses. RSA: RSASSA-PKCS1-v1_5 with SHA-256 (Binance, Bybit).

        Raises
        ------
        CredentialsError
            For HMAC credentials.
        """
        key = self._private_key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(msg)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        raise CredentialsError(
            "private-key signing needs an Ed25519, ECDSA or RSA key, but these are HMAC credentials"
        )

    # ------------------------------------------------------------------ leak guards

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        # getattr: a traceback may show an instance whose __init__ raised before setting fields.
        extra = ", passphrase=<redacted>" if getattr(self, "_passphrase", None) is not None else ""
        api_key = _mask(getattr(self, "_api_key", ""))
        key_type = getattr(self, "_key_type", None)
        return f"Credentials(api_key={api_key!r}, key_type={key_type!r}, secret=<redacted>{extra})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            "Credentials cannot be pickled: load them from the environment or a 0600 file instead"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "Credentials cannot be pickled: load them from the environment or a 0600 file instead"
        )

    def __copy__(self) -> Credentials:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials:
        return self


def _read_private_file(path: str | os.PathLike[str]) -> _Redacted:
    """Read a file after checking, on the open descriptor, that only its owner can access it."""
    shown = os.fspath(path)
    try:
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CredentialsError(f"credentials file {shown} does not exist") from None
    except PermissionError:
        raise CredentialsError(f"credentials file {shown} is not readable by this user") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CredentialsError(f"credentials file {shown} is not a regular file")
        if st.st_mode & 0o077:
            raise CredentialsError(
                f"credentials file {shown} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {shown}"
            )
        chunks: list[_Redacted] = []
        while True:
            chunks.append(_Redacted(os.read(fd, 65536)))
            if not chunks[-1]:
                break
        return _Redacted(b"".join(chunks))
    finally:
        os.close(fd)


def _parse_json_fields(raw: _Redacted) -> dict[str, _Redacted | str] | None:
    """Decode a JSON object; secret fields come back redacted. ``None`` if it is not one."""
    parsed: object = None
    try:
        parsed = json.loads(bytes(raw))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        return None
    out: dict[str, _Redacted | str] = {}
    for name, value in parsed.items():
        out[name] = value if name == "api_key" else _redact(value)
    del value
    parsed.clear()
    return out
