"""Single files as Arrow tables, read by the parsers the studies use."""

import os

from . import _native
from ._result import Table, warn_diagnostics


def _read(kind, path):
    from . import InputError

    try:
        native, rows = _native.read(kind, os.fspath(path))
    except _native.InputError as e:
        raise InputError(*e.args) from None
    warn_diagnostics([("", *row) for row in rows])
    table = Table(native, kind)
    table.diagnostics = rows
    return table


def read_iperf3(path):
    """Reads an iperf3 JSON file (-J or --json-stream): one row per
    reporting interval (all streams together) with start, end, seconds,
    bytes, bits_per_second, packets, lost_packets, jitter_ms, retransmits,
    rtt_ms, snd_cwnd and omitted. Returns a Table whose ``diagnostics`` are
    (severity, file, line, message), also raised as warnings; a file that
    cannot be used raises InputError with its file and line."""
    return _read("iperf3", path)


def read_shremote(path):
    """Reads a Shremote event log (event_log.json): one row per event with
    name, time, stop_time (UTC epoch seconds) and attributes (its other
    fields, as JSON). Diagnostics and errors as in read_iperf3."""
    return _read("shremote", path)


def read_line_protocol(path):
    """Reads an InfluxDB line-protocol file: one row per field of each
    point with measurement, tags (k=v,k=v), field, value (numbers and
    booleans), text (text fields) and time (ns since the epoch). Bad lines
    are diagnostics (warnings), as in read_iperf3."""
    return _read("line_protocol", path)


def read_shipyard_export(path):
    """Reads a Batch Shipyard perf-event export (JSON lines or CSV, as
    ``expost provision --from`` reads): one row per entity with
    partition_key, row_key, event, node_id, message and line. Diagnostics
    and errors as in read_iperf3."""
    return _read("shipyard_export", path)


def read_trace(path):
    """Reads a spot-instance trace (any format ``expost traces`` reads): one
    row per change with t (seconds since the first record), delta (nodes
    joined, or left when negative) and node (when the trace names nodes).
    Diagnostics and errors as in read_iperf3."""
    return _read("trace", path)
