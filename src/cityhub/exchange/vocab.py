"""Vocabularies of the exchange: batch status, delivery mode, source kinds, file formats."""

from __future__ import annotations

import enum


class BatchStatus(enum.StrEnum):
    """The life of a batch (交换批次). The status tells where the data stands: the target
    tables hold a batch's rows exactly when its status is `completed`."""

    pending = "pending"  # stored, waiting for a worker
    running = "running"  # a worker holds its lease; nothing of it is visible yet
    completed = "completed"  # merged, in the same transaction as this status
    failed = "failed"  # nothing merged; `error` says why
    duplicate = "duplicate"  # same content as an earlier batch: nothing to do


class Mode(enum.StrEnum):
    full = "full"  # the delivery is the whole data set: keys it lacks are deleted
    incremental = "incremental"  # upserts, and deletions (an `_op` column or a list)


class SourceKind(enum.StrEnum):
    upload = "upload"  # POST /api/v1/deliveries or `cityhub deliver`
    resubmit = "resubmit"  # corrected quarantine rows of an earlier batch
    http = "http"  # a pull connector on an HTTP JSON endpoint
    sql = "sql"  # a pull connector on a SQL table


class FileFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    ndjson = "ndjson"
    parquet = "parquet"


class QuarantineStatus(enum.StrEnum):
    open = "open"  # waiting for a correction
    resubmitted = "resubmitted"  # corrected rows were delivered as a later batch


class ConnectorKind(enum.StrEnum):
    http = "http"
    sql = "sql"


class WebhookStatus(enum.StrEnum):
    pending = "pending"  # to be (re)tried at `next_attempt_at`
    delivered = "delivered"
    dead = "dead"  # gave up after the last attempt: the dead-letter list


class ChangeOp(enum.StrEnum):
    upsert = "upsert"
    delete = "delete"
