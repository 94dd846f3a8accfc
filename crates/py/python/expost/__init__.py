"""expost: analyse distributed-systems experiments after they ran.

One function per study command (``failover``, ``iperf3``, ``ombt``,
``provision``, ``traces``, ``simulate``, ``sweep``), with the command's long
options as keyword arguments; each returns a ``Result`` whose tables are
Arrow tables (``.to_pandas()``, ``.to_polars()``), whose figures show in
Jupyter, whose ``summary`` is what ``--json`` prints and whose
``write(dir)`` writes what ``-o DIR`` writes. Diagnostics are raised as
warnings of a category per severity, with their file and line. Readers of
single files (``read_iperf3``, ``read_shremote``, ``read_line_protocol``,
``read_shipyard_export``, ``read_trace``) give Arrow tables too.

    import expost
    result = expost.failover("examples/failover")
    result.runs.to_pandas()
"""

from . import _native
from ._result import (
    ErrorDiagnostic,
    Figure,
    NoteDiagnostic,
    Result,
    Table,
    WarningDiagnostic,
)
from ._readers import (
    read_iperf3,
    read_line_protocol,
    read_shipyard_export,
    read_shremote,
    read_trace,
)
from ._studies import make_study

__version__ = _native.__version__


class InputError(ValueError):
    """An input expost cannot use: ``file`` and ``line`` say where, when
    known (else ``None``)."""

    def __init__(self, message, file=None, line=None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self):
        if self.file and self.line:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message


failover = make_study("failover")
iperf3 = make_study("iperf3")
ombt = make_study("ombt")
provision = make_study("provision")
traces = make_study("traces")
simulate = make_study("simulate")
sweep = make_study("sweep")

__all__ = [
    "ErrorDiagnostic",
    "Figure",
    "InputError",
    "NoteDiagnostic",
    "Result",
    "Table",
    "WarningDiagnostic",
    "failover",
    "iperf3",
    "ombt",
    "provision",
    "read_iperf3",
    "read_line_protocol",
    "read_shipyard_export",
    "read_shremote",
    "read_trace",
    "simulate",
    "sweep",
    "traces",
]
