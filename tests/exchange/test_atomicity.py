"""Killing the process in the middle of a batch leaves the library as it was before the
batch; the interrupted batch is then processed again from its stored file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import select

from cityhub.exchange import pipeline
from cityhub.exchange.models import Batch
from cityhub.exchange.vocab import BatchStatus

from .conftest import HEADER, PEOPLE, World, people_csv, person_row

WORKER = textwrap.dedent(
    """
    import sys, time
    from cityhub.core.db import make_engine, session_factory
    from cityhub.directory.models import Organization
    from cityhub.exchange import pipeline, service
    from cityhub.exchange.vocab import Mode
    from cityhub.settings import load_settings

    settings = load_settings()
    factory = session_factory(make_engine(settings.effective_database_url))
    with factory() as session:
        org = session.query(Organization).filter_by(code="LYGA").one()
    actor = service.Actor("cli", org.id, frozenset(), system=True)
    with open(sys.argv[1], "rb") as src:
        received = service.receive(factory, settings, actor, resource_code=sys.argv[2],
                                   content=src, filename="big.csv", mode=Mode.incremental)
    print("batch", received.batch_id, flush=True)
    done = 0
    def progress(rows):
        global done
        done += rows
        print("merged", done, flush=True)
        time.sleep(0.2)  # time for the test to kill us between two chunks
    pipeline.run(factory, settings, received.batch_id, progress=progress)
    print("finished", flush=True)
    """
)


def test_a_batch_killed_midway_leaves_the_library_as_before(world: World, tmp_path: Path) -> None:
    world.deliver(people_csv(10))
    before = sorted((r["sfzh"], r["xm"]) for r in world.rows())
    big = tmp_path / "big.csv"
    lines = [person_row(i, xm="新名") for i in range(1, 11)]  # updates the ten
    lines += [person_row(i) for i in range(11, 3000)]
    big.write_text("sfzh,xm,xb,csrq,hjqh,hjdz,lxdh,nl\n" + "\n".join(lines) + "\n")
    env = {
        **os.environ,
        "CITYHUB_DATABASE_URL": world.settings.database_url,
        "CITYHUB_DATA_DIR": str(world.settings.data_dir),
        "CITYHUB_DEMO_MODE": "true",
        "CITYHUB_EXCHANGE_CHUNK_ROWS": "500",
        "CITYHUB_LOG_LEVEL": "ERROR",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(big), PEOPLE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    batch_id = None
    merged = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            break
        if line.startswith("batch"):
            batch_id = int(line.split()[1])
        if line.startswith("merged"):
            merged = int(line.split()[1])
            if merged >= 1500:  # three chunks merged in the open transaction
                break
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert batch_id is not None and merged >= 1500, worker.stderr.read() if worker.stderr else ""
    # the library holds exactly what it held before the batch
    assert sorted((r["sfzh"], r["xm"]) for r in world.rows()) == before
    factory = world.client.app.state.sessions  # type: ignore[attr-defined]
    with factory() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None and batch.status is BatchStatus.running
    # the interrupted batch is queued again and processed from its stored file
    assert pipeline.recover(factory) == [batch_id]
    done = pipeline.run(factory, world.settings, batch_id)
    assert done.status is BatchStatus.completed, done.error
    assert (done.rows_in, done.inserted, done.updated) == (2999, 2989, 10), (
        done.rows_in,
        done.accepted,
        done.rejected,
        done.unchanged,
    )
    assert len(world.rows()) == 2999
    with factory() as session:
        statuses = set(session.scalars(select(Batch.status)))
    assert statuses == {BatchStatus.completed}


def test_a_batch_failing_in_a_later_chunk_merges_nothing(world: World) -> None:
    """Chunks are read and checked ahead of the merge: a file that turns out bad in its
    third chunk fails the batch after two chunks were merged, and those roll back."""
    from cityhub.exchange import changes

    world.deliver(people_csv(10))
    before = world.rows()
    with world.db() as session:
        seq = changes.last_seq(session, PEOPLE)
    world.settings.exchange_chunk_rows = 100
    world.client.app.state.settings.exchange_chunk_rows = 100  # type: ignore[attr-defined]
    lines = [person_row(i, xm="新名") for i in range(1, 251)]
    lines[240] += ",多出的字段"  # row 241: more fields than the header
    response = world.deliver(HEADER + "\n" + "\n".join(lines) + "\n")
    body = response.json()
    assert body.get("status") == "failed" or response.status_code >= 400, body
    assert "more fields" in str(body)
    assert world.rows() == before
    with world.db() as session:
        assert changes.last_seq(session, PEOPLE) == seq
        assert session.scalar(select(Batch.status).order_by(Batch.id.desc()).limit(1)) == (
            BatchStatus.failed
        )
