"""A department's witness: fetch the latest head, check it extends the last head this
witness saw (consistency proof), check the platform's signature, cosign, post.

State (last head seen, the pinned platform key) lives in a small local JSON file, so a
rewritten or forked history is refused on the next run.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityhub.errors import BadRequest, CityHubError, Conflict, ServiceUnavailable
from cityhub.ledger.heads import now_ms
from cityhub.ledger.keys import Signer
from cityhub.ledger.verify import (
    Head,
    Keys,
    TreeHasher,
    VerificationError,
    cosign_message,
    hexdecode,
    parse_keys,
    verify_consistency,
    verify_head,
)


class WitnessRefused(CityHubError):
    """The log misbehaved: the witness will not cosign (and says why)."""

    status, type, title = 409, "https://cityhub.dev/problems/witness-refused", "Refused"


@dataclass(frozen=True)
class WitnessResult:
    size: int
    root: str
    previous_size: int | None
    cosigned: bool


def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    try:
        response = client.get(path, params=params or None)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"cannot reach the ledger at {client.base_url}: {exc}") from None
    if response.status_code != 200:
        raise ServiceUnavailable(
            f"GET {path} answered {response.status_code}: {response.text[:200]}"
        )
    return response.json()


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadRequest(f"the witness state {path} is unreadable: {exc}") from None
    if not isinstance(state, dict):
        raise BadRequest(f"the witness state {path} is not a JSON object")
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # never a half-written state


def _log_keys(client: httpx.Client, state: dict[str, Any], pinned: Keys | None) -> Keys:
    if pinned:
        return pinned
    if state.get("log_keys"):
        return parse_keys(state["log_keys"], "the pinned platform keys")
    # Trust on first use; the key is pinned from now on.
    return parse_keys(_get(client, "/api/v1/ledger/keys"), "the platform keys")


def run_witness(
    url: str,
    key: Ed25519PrivateKey,
    state_path: Path,
    *,
    log_keys: Keys | None = None,
    transport: httpx.BaseTransport | None = None,
) -> WitnessResult:
    signer = Signer(key)
    state = load_state(state_path)
    if state.get("url") and state["url"] != url:
        raise BadRequest(f"the state {state_path} belongs to {state['url']}, not {url}")
    with httpx.Client(base_url=url, timeout=30, transport=transport) as client:
        keys = _log_keys(client, state, log_keys)
        doc = _get(client, "/api/v1/ledger/heads/latest")
        try:
            head, _ = verify_head(doc, keys)
        except VerificationError as exc:
            raise WitnessRefused(f"the latest head does not verify: {exc}") from None
        previous = _check_extends(client, state, head)
        stamp = now_ms()
        signature = signer.sign(cosign_message(head.message(), stamp))
        body = {
            "root": head.root.hex(),
            "key_id": signer.key_id,
            "timestamp": stamp,
            "signature": base64.b64encode(signature).decode(),
        }
        try:
            response = client.post(f"/api/v1/ledger/heads/{head.size}/cosignatures", json=body)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"cannot post the cosignature: {exc}") from None
        if response.status_code != 201:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = response.text[:200]
            raise Conflict(f"the ledger refused the cosignature ({response.status_code}): {detail}")
    save_state(
        state_path,
        {
            "url": url,
            "origin": head.origin,
            "hash_alg": head.hash_alg,
            "size": head.size,
            "root": head.root.hex(),
            "timestamp": head.timestamp_ms,
            "log_keys": [
                {"key_id": k, "algorithm": a, "public_key": base64.b64encode(p).decode()}
                for k, (a, p) in keys.items()
            ],
        },
    )
    return WitnessResult(head.size, head.root.hex(), previous, True)


def _check_extends(client: httpx.Client, state: dict[str, Any], head: Head) -> int | None:
    """Refuse a head that does not extend the last one this witness saw."""
    if not state.get("size"):
        return None
    if state.get("origin") != head.origin or state.get("hash_alg") != head.hash_alg:
        raise WitnessRefused(f"the head is from another log ({head.origin}, {head.hash_alg})")
    old_size, old_root = int(state["size"]), hexdecode(state["root"], "the state's root")
    if head.size < old_size:
        raise WitnessRefused(f"the log shrank from {old_size} to {head.size} entries")
    if head.size == old_size:
        if head.root != old_root:
            raise WitnessRefused(f"two different roots for size {old_size}: a fork")
        return old_size
    proof_doc = _get(client, "/api/v1/ledger/proofs/consistency", first=old_size, second=head.size)
    proof = [hexdecode(p, "the consistency proof") for p in proof_doc.get("proof", [])]
    try:
        verify_consistency(
            TreeHasher(head.hash_alg), old_size, head.size, proof, old_root, head.root
        )
    except VerificationError as exc:
        raise WitnessRefused(
            f"the head of size {head.size} is not consistent with size {old_size}: {exc}"
        ) from None
    return old_size
