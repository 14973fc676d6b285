"""Ed25519 signatures of result files (`thidua sign`, `thidua keygen`, `verify --key`), through the
optional ``cryptography`` package (``pip install 'thidua_rules[sign]'``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Any

from .errors import Issue, PolicyError, ThiduaError

#: The first line of a signature file; a new layout would get a new version.
SIGNATURE_FORMAT = "thidua-signature/1"
#: What is signed: this prefix, then the result file's exact bytes. The prefix keeps a signature
#: made for a thidua result from being valid for the same bytes in another protocol.
CONTEXT = b"thidua-result-signature/1\n"
#: The most read of a key or a signature file (both are a few hundred bytes).
KEY_MAX_BYTES = 64 * 1024


def _crypto() -> Any:
    """The ``cryptography`` Ed25519 module, or one line saying how to install it."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise PolicyError([Issue(file="thidua", message="signing needs the optional 'cryptography' package: "
                                 "pip install 'thidua_rules[sign]'")]) from None
    return ed25519


def _read(path: str) -> bytes:
    from .loader.common import read_bytes

    return read_bytes(path, path, limit=KEY_MAX_BYTES)


def load_private_key(path: str) -> Any:
    """An unencrypted Ed25519 private key from a PEM (PKCS #8) file, as ``thidua keygen`` writes."""
    ed25519 = _crypto()
    from cryptography.hazmat.primitives import serialization

    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # a password-protected key
        raise PolicyError([Issue(file=path, message="the private key is encrypted; give an unencrypted "
                                 "Ed25519 key (PEM, PKCS #8), e.g. from thidua keygen")]) from None
    except (ValueError, binascii.Error) as exc:
        raise PolicyError([Issue(file=path, message=f"not a PEM private key: {_reason(exc)}")]) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise PolicyError([Issue(file=path, message="not an Ed25519 private key (thidua signs with Ed25519 only)")])
    return key


def load_public_key(path: str) -> Any:
    """An Ed25519 public key from a PEM (SubjectPublicKeyInfo) file, as ``thidua keygen`` writes."""
    ed25519 = _crypto()
    from cryptography.hazmat.primitives import serialization

    data = _read(path)
    if b"PRIVATE KEY" in data:
        raise PolicyError([Issue(file=path, message="this is a private key; verify with the public key "
                                 "(thidua keygen wrote it beside the private one)")])
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, binascii.Error) as exc:
        raise PolicyError([Issue(file=path, message=f"not a PEM public key: {_reason(exc)}")]) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise PolicyError([Issue(file=path, message="not an Ed25519 public key (thidua signs with Ed25519 only)")])
    return key


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0].strip()
    return text[:1].lower() + text[1:] if text else "unreadable"


def key_id(public_key: Any) -> str:
    """``sha256:<hex>`` of the raw 32-byte public key: names the key in a signature file."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def signature_text(data: bytes, private_key: Any) -> str:
    """The signature file for ``data``: four lines, the format, the algorithm, the key id and the
    base64 signature of :data:`CONTEXT` + ``data`` (Ed25519 is deterministic: same key and bytes,
    same file)."""
    signature = private_key.sign(CONTEXT + data)
    return (f"{SIGNATURE_FORMAT}\nalgorithm ed25519\nkey {key_id(private_key.public_key())}\n"
            f"signature {base64.b64encode(signature).decode('ascii')}\n")


def parse_signature(text: bytes) -> tuple[str, bytes] | str:
    """``(key id, signature bytes)`` of a signature file, or what is wrong with it."""
    try:
        lines = text.decode("ascii").split("\n")
    except UnicodeDecodeError:
        return "not a thidua signature file (not ASCII text)"
    if lines[-1:] == [""]:
        lines.pop()
    if len(lines) != 4 or lines[0] != SIGNATURE_FORMAT:
        return f"not a thidua signature file (expected 4 lines, the first '{SIGNATURE_FORMAT}')"
    fields = dict(line.partition(" ")[::2] for line in lines[1:])
    if fields.get("algorithm") != "ed25519" or "key" not in fields or "signature" not in fields:
        return "not a thidua signature file (expected the lines 'algorithm ed25519', 'key …', 'signature …')"
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
    except binascii.Error:
        return "the signature line is not base64"
    if len(signature) != 64 or base64.b64encode(signature).decode("ascii") != fields["signature"]:
        return "the signature line is not one base64 Ed25519 signature (64 bytes)"
    return fields["key"], signature


def check_signature(data: bytes, signature_file: str, public_key: Any, key_file: str) -> str | None:
    """None when ``signature_file`` is a valid signature of ``data`` by ``public_key``, else the
    one-line finding (``signature_file: …``)."""
    from cryptography.exceptions import InvalidSignature

    parsed = parse_signature(_read(signature_file))
    if isinstance(parsed, str):
        return f"{signature_file}: {parsed}"
    signer, signature = parsed
    expected = key_id(public_key)
    if signer != expected:
        return f"{signature_file}: made with the key {signer}, not with {key_file} ({expected})"
    try:
        public_key.verify(signature, CONTEXT + data)
    except InvalidSignature:
        return f"{signature_file}: the signature does not match the result's bytes (the file or the signature changed)"
    return None


def sign_command(result_path: str, key_path: str, output: str | None) -> str:
    """``thidua sign``: check that ``result_path`` is an intact JSON result (its content hash
    matches), sign its bytes and write the signature atomically; returns the path written."""
    from .loader.common import DATA_MAX_BYTES, read_bytes
    from .report.writers import write_atomic
    from .verify import self_check

    key = load_private_key(key_path)
    data = read_bytes(result_path, result_path, limit=DATA_MAX_BYTES)
    problems = self_check(result_path, data)
    if problems:
        raise ThiduaError(f"{problems[0]}; not signed")
    target = output or f"{result_path}.sig"
    write_atomic(target, signature_text(data, key))
    return target


def keygen_command(private_path: str, public_path: str) -> None:
    """``thidua keygen``: a new Ed25519 key pair, the private key readable by its owner only
    (``0600``); an existing file is never replaced."""
    _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise PolicyError([Issue(file=path, message="already exists; a key is never overwritten: "
                                     "give another name or remove the file")])
    if Path(private_path).resolve() == Path(public_path).resolve():
        raise PolicyError([Issue(file=public_path, message="the public key needs a name of its own")])
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except OSError:
        os.unlink(private_path)
        raise


def _write_new(path: str, data: bytes, mode: int) -> None:
    """Create ``path`` (never replacing a file) with ``mode`` and write ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, mode)
    try:
        os.fchmod(fd, mode)  # the umask cannot widen it, but a narrower one would hide the public key
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        os.unlink(path)
        raise


def evaluate_signer(sign_key: str | None, fmt: str | None, output: str | None, signature: str | None) -> Any | None:
    """``thidua evaluate --sign-key PRIVATE.pem``: the loaded private key (None without the
    option), checked before any evaluation, with one line for each misuse: a signature needs
    the JSON result in a file (``-o RESULT.json``), as ``thidua sign`` does."""
    from .report.writers import output_target

    if sign_key is None:
        if signature is not None:
            raise PolicyError([Issue(file=signature, message="a signature file is written with --sign-key "
                                     "PRIVATE.pem; give the key")])
        return None
    if fmt != "json":
        raise PolicyError([Issue(file=sign_key, message=f"--sign-key signs a JSON result; give --format json "
                                 f"(or -o RESULT.json), not '{fmt}'")])
    if output is None:
        raise PolicyError([Issue(file=sign_key, message="--sign-key needs -o RESULT.json: the result and its "
                                 "signature (RESULT.json.sig) are written as files")])
    target = signature or f"{output}.sig"
    if output_target(target)[0] == output_target(output)[0]:
        raise PolicyError([Issue(file=target, message="the signature needs a file of its own, not the result's")])
    return load_private_key(sign_key)


def write_signed(output: str, text: str, key: Any, signature: str | None) -> str:
    """Write the result ``text`` to ``output`` and its detached signature (:func:`signature_text`
    of the exact bytes written) beside it, each atomically; returns the signature's path.

    Both go to temporary files first, and the signature is put in place just before the result:
    a new result never appears without its signature, and an interruption before the renames
    leaves both files as they were."""
    from .report.writers import atomic_output

    data = text.encode("utf-8")  # what atomic_output writes: UTF-8, and the JSON has LF endings only
    target = signature or f"{output}.sig"
    with atomic_output(output, binary=True) as result_handle:
        result_handle.write(data)
        with atomic_output(target) as signature_handle:
            signature_handle.write(signature_text(data, key))
    return target
