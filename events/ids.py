"""Public ids: a prefix and a time-ordered random part (ids created later sort later)."""

import secrets
import time


def time_ordered_id(prefix):
    milliseconds = time.time_ns() // 1_000_000
    return f"{prefix}_{milliseconds:012x}{secrets.token_hex(8)}"


def new_event_id():
    return time_ordered_id("evt")


def new_endpoint_id():
    return time_ordered_id("we")


def new_delivery_id():
    return time_ordered_id("del")
