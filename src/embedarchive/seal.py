"""RFC 3161 trusted timestamps over the chain head: proof that the archive, as it stood, existed
no later than the time a Time-Stamping Authority signed.

``rfc3161-client`` (Trail of Bits, used by sigstore) builds the request and checks the token:
the message imprint, the CMS signature, the signer's certificate and its critical
``timeStamping`` key usage. With ``tsa_ca_file`` set the token must chain to those CA
certificates; otherwise it is checked against the certificates it carries itself, which proves
it is intact and names the TSA that signed, but not that the TSA is one you trust.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from .errors import EmbedArchiveError, FetchError, InputError
from .manifest import head
from .settings import Settings


class TimestampError(EmbedArchiveError):
    """A timestamp token is malformed, refused, or does not match what it should cover."""


@dataclass(frozen=True)
class TokenInfo:
    gen_time: str
    serial: str
    tsa_name: str
    policy: str


def load_ca_file(path: Path | None) -> list[Any]:
    if path is None:
        return []
    from cryptography.x509 import load_pem_x509_certificates

    try:
        return list(load_pem_x509_certificates(Path(path).read_bytes()))
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read TSA CA certificates from {path}: {err}") from None


def check_token(token: bytes, message: bytes, ca_certs: list[Any] | None = None) -> TokenInfo:
    """Check a TimeStampResp over ``message``; raises ``TimestampError`` saying what is wrong."""
    from cryptography.x509 import load_der_x509_certificate
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(token)
    except Exception as err:  # the Rust parser raises ValueError and friends
        raise TimestampError(f"not an RFC 3161 timestamp response: {err}") from None
    embedded = [load_der_x509_certificate(c) for c in response.signed_data.certificates]
    roots = ca_certs or embedded
    if not roots:
        raise TimestampError("the token carries no certificate and no TSA CA is configured")
    info = response.tst_info
    expected = hashlib.sha256(message).digest()
    if info.message_imprint.message != expected:
        raise TimestampError(
            f"the token covers {info.message_imprint.message.hex()[:16]}…, "
            f"not this manifest ({expected.hex()[:16]}…)"
        )
    builder = VerifierBuilder(roots=list(roots))  # every certificate given is trusted
    try:
        builder.build().verify_message(response, message)
    except (VerificationError, ValueError) as err:
        raise TimestampError(f"timestamp signature does not verify: {err}") from None
    return TokenInfo(
        gen_time=info.gen_time.isoformat().replace("+00:00", "Z"),
        serial=str(info.serial_number),
        tsa_name=_tsa_name(embedded, response),
        policy=info.policy.dotted_string,
    )


def _tsa_name(certs: list[Any], response: Any) -> str:
    signer = next(iter(response.signed_data.signer_infos), None)
    for cert in certs:
        if signer is not None and cert.serial_number == signer.serial_number:
            return str(cert.subject.rfc4514_string())
    return ""


#: How far a TSA's clock may be from this machine's, and a token's time before the time the
#: manifest it covers says it was written: clocks drift, but not by more than this.
CLOCK_SKEW = timedelta(days=1)
#: A timestamp token is a few kilobytes; with its certificate chain, tens.
MAX_TOKEN_BYTES = 1 << 20


def token_time_problem(gen_time: str, written_at: Any, now: datetime) -> str | None:
    """Why a token's time cannot be right, if it cannot: before the manifest it covers was
    written (a token of 1970 over a manifest of 2026), or in the future. None if it can."""
    try:
        signed = datetime.fromisoformat(gen_time.replace("Z", "+00:00"))
    except ValueError:
        return f"its time {gen_time!r} is no time"
    if signed.tzinfo is None:
        signed = signed.replace(tzinfo=UTC)
    if signed > now + CLOCK_SKEW:
        return f"its time {gen_time} is in the future"
    try:
        written = datetime.fromisoformat(str(written_at).replace("Z", "+00:00"))
    except ValueError:
        return None  # the manifest's own check says what is wrong with it
    if written.tzinfo is None:
        written = written.replace(tzinfo=UTC)
    if signed < written - CLOCK_SKEW:
        return f"its time {gen_time} is before the manifest it covers was written ({written_at})"
    return None


def request_token(
    client: httpx.Client, tsa_url: str, message: bytes, total_timeout: float = 300.0
) -> bytes:
    """Ask the TSA for a token over ``message`` (its sha256); checked against our nonce. The
    answer is read to at most ``MAX_TOKEN_BYTES`` (decoded) within ``total_timeout`` seconds:
    a TSA that trickles or answers a gigabyte holds the writer lock no longer."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    deadline = time.monotonic() + total_timeout
    try:
        with client.stream(
            "POST",
            tsa_url,
            content=request.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
        ) as answer:
            if answer.status_code != 200:
                raise FetchError(f"the TSA {tsa_url} answered HTTP {answer.status_code}")
            content = b""
            for chunk in answer.iter_bytes():
                content += chunk
                if len(content) > MAX_TOKEN_BYTES:
                    raise TimestampError(
                        f"the TSA {tsa_url} answered more than {MAX_TOKEN_BYTES} bytes: no token"
                    )
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"the TSA {tsa_url} took more than {total_timeout:.0f} s to answer"
                    )
    except httpx.HTTPError as err:
        raise FetchError(f"cannot reach the TSA {tsa_url}: {type(err).__name__}: {err}") from None
    try:
        response = decode_timestamp_response(content)
    except Exception as err:
        raise TimestampError(f"the TSA {tsa_url} answered something else: {err}") from None
    if int(response.status) not in (0, 1):
        raise TimestampError(
            f"the TSA refused: status {int(response.status)} {' '.join(response.status_string)}"
        )
    if response.tst_info.nonce != request.nonce:
        raise TimestampError("the TSA answered with another request's nonce")
    return content


@dataclass(frozen=True)
class Sealed:
    manifest_seq: int
    manifest_sha256: str
    token_path: str
    token: TokenInfo
    backfilled: int


def seal(settings: Settings) -> Sealed:
    """Timestamp the chain head, first covering rows no manifest covers yet (older archives)."""
    from .capture.http import GuardTransport, PinnedTransport, utcnow
    from .manifest import backfill
    from .manifest import parse as parse_manifest
    from .store.lock import writer_lock
    from .store.records import Store, require_archive

    require_archive(settings.db_path)
    with writer_lock(settings.archive_dir):
        store = Store.open(
            settings.db_path,
            warc_max_bytes=settings.warc_max_bytes,
            durable=settings.durable_commits,
        )
        try:
            assert store.evidence is not None
            store.evidence.recover()
            backfilled = backfill(store.db, settings.archive_dir)
            top = head(store.db)
            if top is None:
                raise InputError("nothing to seal: the archive has no manifests yet")
            message = (settings.archive_dir / top.path).read_bytes()
            transport = GuardTransport(
                PinnedTransport(settings.allow_private_network), settings.allow_private_network
            )
            with httpx.Client(
                transport=transport,
                timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                headers={"User-Agent": settings.user_agent},
                trust_env=False,
            ) as client:
                token = request_token(client, settings.tsa_url, message, settings.total_timeout)
            info = check_token(token, message, load_ca_file(settings.tsa_ca_file))
            written = parse_manifest(message).get("created_at")
            wrong = token_time_problem(info.gen_time, written, datetime.now(UTC))
            if wrong is not None:  # the TSA's clock, or its token, cannot be right
                raise TimestampError(
                    f"the TSA {settings.tsa_url} answered a token that cannot be right: {wrong}"
                )
            sha = hashlib.sha256(token).hexdigest()
            rel = f"timestamps/{sha[:2]}/{sha}.tsr"
            dest = settings.archive_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(token)
            os.chmod(dest, 0o444)
            with store.atomic():
                store.db.table("timestamps").insert(
                    {
                        "manifest_id": top.id,
                        "manifest_sha256": top.sha256,
                        "tsa_url": settings.tsa_url,
                        "path": rel,
                        "sha256": sha,
                        "gen_time": info.gen_time,
                        "serial": info.serial,
                        "tsa_name": info.tsa_name,
                        "created_at": utcnow(),
                    }
                )
            return Sealed(top.seq, top.sha256, rel, info, backfilled)
        finally:
            store.close()


__all__ = [
    "CLOCK_SKEW",
    "Sealed",
    "TimestampError",
    "TokenInfo",
    "check_token",
    "request_token",
    "seal",
    "token_time_problem",
]
