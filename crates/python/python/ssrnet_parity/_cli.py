"""The ``ssrnet-parity`` console script: the command line of the Rust binary, run inside the
extension (the same code, output and exit codes)."""

import sys


def main() -> None:
    """Runs ``ssrnet-parity`` with this process's arguments and exits with its code."""
    from . import _native

    sys.exit(_native.cli_main(["ssrnet-parity", *sys.argv[1:]]))
