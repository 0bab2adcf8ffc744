from __future__ import annotations

import json
import logging

from cityhub.core.logging import JsonFormatter, request_id_var


def test_log_records_are_one_json_object_with_the_request_id() -> None:
    token = request_id_var.set("req-12345678")
    try:
        record = logging.LogRecord(
            "cityhub.x", logging.WARNING, __file__, 1, "办结 %s", ("ok",), None
        )
        record.status = 201
        record.color_message = "\x1b[36mcoloured\x1b[0m"
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "办结 ok" and entry["level"] == "WARNING"
    assert entry["request_id"] == "req-12345678" and entry["status"] == 201
    assert "color_message" not in entry
