"""A local RFC 3161 Time-Stamping Authority on 127.0.0.1 for the seal/verify tests.

A CA and a TSA certificate (critical extended key usage ``timeStamping``, as RFC 3161 requires)
are generated with ``cryptography``; answers are built with ``asn1crypto`` (TSTInfo inside a
CMS SignedData with the ESS signing-certificate attribute) and signed with the TSA's key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str) -> cx509.Name:
    return cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_authority(cn: str = "Test TSA", wide: bool = False) -> dict[str, Any]:
    """A CA and its TSA certificate, valid a year from yesterday (``wide``: 1950 to 9999, so
    that only the token's own time can be wrong)."""
    now = dt.datetime.now(dt.UTC)
    start = dt.datetime(1950, 1, 1, tzinfo=dt.UTC) if wide else now - dt.timedelta(days=1)
    end = dt.datetime(9999, 12, 31, tzinfo=dt.UTC) if wide else now + dt.timedelta(days=365)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        cx509.CertificateBuilder()
        .subject_name(_name(f"{cn} Root CA"))
        .issuer_name(_name(f"{cn} Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        cx509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return {"key": key, "leaf": leaf, "ca": ca}


def timestamp_response(
    authority: dict[str, Any],
    request_der: bytes,
    serial: int,
    clock: dt.datetime | None = None,
) -> bytes:
    request = tsp.TimeStampReq.load(request_der)
    leaf_der = authority["leaf"].public_bytes(serialization.Encoding.DER)
    ca_der = authority["ca"].public_bytes(serialization.Encoding.DER)
    leaf = x509.Certificate.load(leaf_der)
    info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "1.3.6.1.4.1.99999.1",
            "message_imprint": request["message_imprint"],
            "serial_number": serial,
            "gen_time": (clock or dt.datetime.now(dt.UTC)).replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "nonce": request["nonce"].native,
        }
    )
    content = info.dump()
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
            {
                "type": "signing_certificate_v2",
                "values": [
                    {
                        "certs": [
                            {
                                "hash_algorithm": {"algorithm": "sha256"},
                                "cert_hash": hashlib.sha256(leaf_der).digest(),
                            }
                        ]
                    }
                ],
            },
        ]
    )
    signature = authority["key"].sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": leaf.issuer,
                    "serial_number": leaf.serial_number,
                }
            }
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signature": signature,
    }
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(content),
            },
            "certificates": [leaf, x509.Certificate.load(ca_der)],
            "signer_infos": [signer],
        }
    )
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


class FakeTSA:
    """``with FakeTSA() as tsa``: ``tsa.url`` answers RFC 3161 requests; ``tsa.ca_pem`` trusts it."""

    def __init__(self, cn: str = "Test TSA", wide: bool = False) -> None:
        self.authority = make_authority(cn, wide)
        self.requests = 0
        #: Misbehaviour: the time its tokens say, bytes sent after the token, bytes per second.
        self.clock: dt.datetime | None = None
        self.padding = 0
        self.trickle = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests += 1
                answer = timestamp_response(owner.authority, body, owner.requests, owner.clock)
                answer += bytes(owner.padding)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if not owner.trickle:
                    self.wfile.write(answer)
                    return
                for i in range(min(len(answer), 60)):  # a byte every 0.25 s, 15 s at most
                    self.wfile.write(answer[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.25)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tsr"

    def write_ca(self, path: Path) -> Path:
        path.write_bytes(self.authority["ca"].public_bytes(serialization.Encoding.PEM))
        return path

    def __enter__(self) -> FakeTSA:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
