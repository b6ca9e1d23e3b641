"""Fake Bluesky: the AppView (``/bsky/xrpc/…``), the PLC directory (``/plc/<did>``) and PDSes.

Each account lives on one of several PDSes (``/pds/<name>/xrpc/com.atproto.sync.getBlob``),
named only in its DID document, and a PDS refuses blobs of accounts it does not host — so a
client that hard-codes a PDS, or asks the wrong one, fails here as it would for real.
Shapes: ``data/bluesky/README.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .reply import Headers, Params, Reply, View, json_reply, media_file

DATA = Path(__file__).parent / "data" / "bluesky"
CASES: dict[str, Any] = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))
POSTS: dict[str, str] = CASES["posts"]
"""Posts the AppView shows (name → ``<handle-or-did>/<rkey>``)."""
ERROR_CASES: dict[str, str] = CASES["cases"]
ACCOUNTS: dict[str, dict[str, Any]] = CASES["accounts"]
THREADS = {p.stem: p.read_text("utf-8") for p in (DATA / "threads").glob("*.json")}
_AT_URI = re.compile(r"at://(?P<actor>[^/]+)/app\.bsky\.feed\.post/(?P<rkey>[A-Za-z0-9_~.:-]+)")
#: Headers the AppView sends with every answer (from the bskyr cassettes' ``*.headers.json``).
_XRPC_HEADERS = (
    ("access-control-allow-origin", "*"),
    ("ratelimit-limit", "3000"),
    ("ratelimit-remaining", "2986"),
    ("ratelimit-policy", "3000;w=300"),
    ("atproto-content-labelers", "did:plc:ar7c4by46qjdydhdevvrndac;redact"),
)


def _did_of(actor: str) -> str | None:
    if actor in ACCOUNTS:
        return actor
    return next((d for d, a in ACCOUNTS.items() if a["handle"] == actor.lower()), None)


def _xrpc_error(error: str, message: str) -> Reply:
    return json_reply(400, json.dumps({"error": error, "message": message}), *_XRPC_HEADERS)


def resolve_handle(_m: re.Match[str], params: Params, _h: Headers, _base: str) -> Reply:
    did = _did_of(params.get("handle", ""))
    if did is None or did == params.get("handle"):
        return _xrpc_error("InvalidRequest", "Unable to resolve handle")
    return json_reply(200, json.dumps({"did": did}), *_XRPC_HEADERS)


def get_post_thread(_m: re.Match[str], params: Params, _h: Headers, _base: str) -> Reply:
    """``depth``/``parentHeight`` are accepted and ignored (the threads have no replies)."""
    uri = params.get("uri", "")
    m = _AT_URI.fullmatch(uri)
    if m is None:
        return _xrpc_error("InvalidRequest", "Error: uri must be a valid at-uri")
    did = _did_of(m["actor"])
    special = CASES["special_threads"].get(m["rkey"])
    if special is not None:
        return json_reply(200, json.dumps(special), *_XRPC_HEADERS)
    body = THREADS.get(m["rkey"])
    if did is None or body is None or f"at://{did}/" not in body[:200]:
        return _xrpc_error("NotFound", f"Post not found: {uri}")
    return json_reply(200, body, *_XRPC_HEADERS)


def did_document(m: re.Match[str], _p: Params, _h: Headers, base: str) -> Reply:
    """The PLC directory's answer: a DID document whose ``#atproto_pds`` names the PDS.

    Synthesised in the documented shape (no PLC response is among the real samples).
    """
    did = m["did"]
    account = ACCOUNTS.get(did)
    if account is None:
        return json_reply(404, json.dumps({"message": f"DID not registered: {did}"}))
    document = {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ],
        "id": did,
        "alsoKnownAs": [f"at://{account['handle']}"],
        "verificationMethod": [
            {
                "id": f"{did}#atproto",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "zQ3shSynthesisedKeyForTheFakeDirectoryOnly",
            }
        ],
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": f"{base}/pds/{account['pds']}",
            }
        ],
    }
    return Reply(
        200, json.dumps(document).encode("utf-8"), "application/did+ld+json; charset=utf-8"
    )


def get_blob(m: re.Match[str], params: Params, _h: Headers, _base: str) -> Reply:
    did, cid = params.get("did", ""), params.get("cid", "")
    if ACCOUNTS.get(did, {}).get("pds") != m["pds"]:
        return _xrpc_error("InvalidRequest", f"Could not find repo for DID: {did}")
    name = CASES["blobs"].get(f"{did} {cid}")
    if name is None:
        return _xrpc_error("BlobNotFound", "Blob not found")
    return media_file(
        name,
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", "default-src 'none'; sandbox"),
    )


ROUTES: tuple[tuple[re.Pattern[str], View], ...] = (
    (re.compile(r"/bsky/xrpc/com\.atproto\.identity\.resolveHandle"), resolve_handle),
    (re.compile(r"/bsky/xrpc/app\.bsky\.feed\.getPostThread"), get_post_thread),
    (re.compile(r"/plc/(?P<did>did:plc:[a-z2-7]+)"), did_document),
    (re.compile(r"/pds/(?P<pds>[a-z]+)/xrpc/com\.atproto\.sync\.getBlob"), get_blob),
)


def settings_overrides(base: str) -> dict[str, str]:
    return {"bluesky_appview_url": f"{base}/bsky", "bluesky_plc_url": f"{base}/plc"}
