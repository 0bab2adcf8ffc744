"""`cityhub ledger ...`: sequence, sign, status, export, verify, audit, witness."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.console import console_settings, one_line_errors, prepare
from cityhub.errors import BadRequest, ConfigError
from cityhub.ledger import service
from cityhub.settings import Settings


@contextmanager
def _factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    from cityhub.core.db import make_engine, session_factory

    prepare(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@click.group()
def ledger() -> None:
    """The verifiable ledger (可信存证): Merkle log, signed heads, proofs, witnesses."""


@ledger.command("sequence")
@click.option("--full", is_flag=True, help="Re-scan the whole outbox, not only recent ids.")
@one_line_errors
def sequence_cmd(full: bool) -> None:
    """Turn notarized events not yet in the log into entries."""
    from cityhub.ledger.sequencer import sequence

    settings = console_settings()
    with _factory(settings) as factory:
        result = sequence(factory, settings, full=full)
    click.echo(f"ledger: {result.appended} entries appended; size {result.size}")


@ledger.command("sign")
@one_line_errors
def sign_cmd() -> None:
    """Sequence pending events, then sign a tree head now."""
    from cityhub.ledger.sequencer import sequence

    settings = console_settings()
    with _factory(settings) as factory:
        sequence(factory, settings)
        head = service.sign_head(factory, settings, None)
    click.echo(f"ledger: signed head size {head['size']} root {head['root']} key {head['key_id']}")


@ledger.command("status")
@one_line_errors
def status_cmd() -> None:
    """Size, latest head, witnesses and the last audit."""
    settings = console_settings()
    with _factory(settings) as factory, factory() as session:
        data = service.summary(session)
    click.echo(f"ledger {data['ledger']} ({data['hash_alg'] or '-'}): {data['size']} entries")
    head = data["latest_head"]
    if head:
        cosigners = ", ".join(c["witness"] for c in head["cosignatures"]) or "none"
        click.echo(f"latest head: size {head['size']} root {head['root']} (cosigned: {cosigners})")
    for w in data["witnesses"]:
        click.echo(f"witness {w['name']} ({w['organization_code']}): cosigned {w['cosigned_size']}")


@ledger.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--heads", "head_count", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--index", "indexes", type=int, multiple=True, help="An entry to prove (repeat).")
@click.option("--event", "events", type=int, multiple=True, help="An event to prove (repeat).")
@one_line_errors
def export_cmd(
    out: Path, head_count: int, indexes: tuple[int, ...], events: tuple[int, ...]
) -> None:
    """Write a bundle for offline verification (all entries, or chosen ones with proofs)."""
    from cityhub.ledger.bundle import export_bundle

    settings = console_settings()
    with _factory(settings) as factory, factory() as session:
        bundle = export_bundle(
            session,
            head_count=head_count,
            complete=not (indexes or events),
            indexes=indexes,
            event_ids=events,
        )
    try:
        out.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise BadRequest(f"cannot write {out}: {exc.strerror}") from None
    click.echo(
        f"ledger: wrote {out} ({len(bundle['heads'])} heads, {len(bundle['entries'])} entries)"
    )


@ledger.command("verify")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Trusted platform public key (PEM or base64); without it the document's own keys "
    "are used and their ids printed for you to compare.",
)
def verify_cmd(document: Path, keys: tuple[Path, ...]) -> None:
    """Check a receipt or bundle offline (inclusion in a signed head, consistency)."""
    from cityhub.ledger.verify import main

    args = [str(document)]
    for key in keys:
        args += ["--key", str(key)]
    raise SystemExit(main(args))


@ledger.command("audit")
@one_line_errors
def audit_cmd() -> None:
    """Recompute entries, tree nodes, heads and notarized digests; report differences."""
    from cityhub.ledger.audit import run_audit

    settings = console_settings()
    with _factory(settings) as factory:
        run = run_audit(factory, trigger="cli", data_dir=settings.data_dir)
    findings = json.loads(run.findings)
    for f in findings:
        click.echo(f"TAMPERED {f['auditor']}: {f['target']}: {f['problem']}")
    click.echo(f"ledger audit: {run.checked} checked, {len(findings)} findings")
    if findings:
        raise SystemExit(1)


@ledger.command("keygen")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@one_line_errors
def keygen_cmd(out: Path) -> None:
    """Make a witness key (PEM, owner-only) and print the public key to register."""
    from cityhub.ledger.keys import Signer, create_key_file

    if out.exists():
        raise BadRequest(f"{out} exists; refusing to overwrite a key")
    signer = Signer(create_key_file(out))
    click.echo(f"public_key: {base64.b64encode(signer.public_key).decode()}")
    click.echo(f"key_id: {signer.key_id}")


@ledger.command("register-witness")
@click.option("--name", required=True, help="Witness name, e.g. LYGA-witness.")
@click.option("--org", "org_code", required=True, help="Code of the witness's department.")
@click.option("--public-key", required=True, help="base64 Ed25519 public key, or a PEM file.")
@one_line_errors
def register_cmd(name: str, org_code: str, public_key: str) -> None:
    """Register a department's witness key (from the operator's console)."""
    from cityhub.core.console import console_session
    from cityhub.ledger.heads import register_witness

    if Path(public_key).is_file():
        public_key = Path(public_key).read_text(encoding="utf-8")
    with console_session() as session:
        witness = register_witness(
            session, None, name=name, public_key=public_key, org_code=org_code
        )
        click.echo(f"ledger: witness {witness.name} registered, key id {witness.key_id}")


@ledger.command("witness")
@click.option("--url", required=True, help="Base URL of the platform, e.g. https://hub.example")
@click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The witness's Ed25519 private key (PEM, from `cityhub ledger keygen`).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the last head seen is kept [default: KEY.state.json].",
)
@click.option(
    "--log-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The platform's public key; without it the key is pinned on first use.",
)
@one_line_errors
def witness_cmd(url: str, key_path: Path, state_path: Path | None, log_key: Path | None) -> None:
    """Check the latest head extends the last one seen, then cosign it."""
    from cityhub.ledger.keys import parse_private_key
    from cityhub.ledger.verify import VerificationError, key_id, load_public_key
    from cityhub.ledger.witness import run_witness

    key = parse_private_key(key_path.read_text(encoding="utf-8"), str(key_path))
    pinned = None
    if log_key is not None:
        try:
            algorithm, raw = load_public_key(log_key)
        except VerificationError as exc:
            raise ConfigError(str(exc)) from None
        pinned = {key_id(algorithm, raw): (algorithm, raw)}
    state = state_path or key_path.with_name(key_path.name + ".state.json")
    result = run_witness(url.rstrip("/"), key, state, log_keys=pinned)
    since = f" (consistent with {result.previous_size})" if result.previous_size else ""
    click.echo(f"witness: cosigned size {result.size} root {result.root}{since}")


@ledger.command("settings")
@one_line_errors
def settings_cmd() -> None:
    """Print the ledger's settings (CITYHUB_LEDGER_*) with their descriptions."""
    from cityhub.settings import describe

    for env, shown, description in describe(console_settings()):
        if env.startswith("CITYHUB_LEDGER_"):
            click.echo(f"{env}={shown}\n    {description}")
