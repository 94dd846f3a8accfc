"""The ``expost`` command installed with the package: the same command line
as the ``expost`` binary, run by the same code."""

import sys

from . import _native


def main() -> None:
    """Runs ``expost`` with this process's arguments and exits with its status."""
    # The program is recorded as typed (`expost`), as the binary records it.
    sys.exit(_native.main(["expost", *sys.argv[1:]]))
