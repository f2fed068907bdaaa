"""`make bench`: every benchmark in ops/bench, one after another. Not tests.

Options are the gateway benchmark's (`python -m ops.bench.gateway --help`).
"""

from __future__ import annotations

import sys

from ops.bench import gateway, policy


def main() -> None:
    policy.main()
    gateway.main(sys.argv[1:])


if __name__ == "__main__":
    main()
