"""Why input is refused: stable codes, counted per device and shown to operators."""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    unknown_device = "unknown_device"  # no such device (or not in the topic's organization)
    malformed = "malformed"  # not JSON, or not the documented shape
    too_large = "too_large"  # more readings than CITYHUB_SENSING_MAX_BATCH_POINTS
    wrong_type = "wrong_type"  # a value that is not a number (or true/false)
    unknown_metric = "unknown_metric"  # a metric the device's profile does not have
    out_of_range = "out_of_range"  # outside the metric's valid physical range
    bad_timestamp = "bad_timestamp"  # unreadable, or without a UTC offset
    future_timestamp = "future_timestamp"
    stale_timestamp = "stale_timestamp"  # older than CITYHUB_SENSING_MAX_PAST_HOURS
    duplicate = "duplicate"  # the same device, metric and time already stored (or replayed)
    rate_limited = "rate_limited"  # more readings per minute than the profile allows


DESCRIPTIONS: dict[Reason, str] = {
    Reason.unknown_device: "the device is not registered (in this organization)",
    Reason.malformed: "the message is not JSON of the documented shape",
    Reason.too_large: "the message has more readings than allowed",
    Reason.wrong_type: "a value is not a number",
    Reason.unknown_metric: "the device's profile has no such metric",
    Reason.out_of_range: "a value is outside the metric's valid physical range",
    Reason.bad_timestamp: "a timestamp is unreadable or has no UTC offset",
    Reason.future_timestamp: "a timestamp lies too far in the future",
    Reason.stale_timestamp: "a timestamp lies too far in the past",
    Reason.duplicate: "the reading was already stored (duplicate or replay)",
    Reason.rate_limited: "the device sent more readings per minute than its profile allows",
}
