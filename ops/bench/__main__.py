"""`make bench`: every benchmark in ops/bench, one after another. Not tests."""

from __future__ import annotations

from ops.bench import gateway, policy


def main() -> None:
    policy.main()
    gateway.main()


if __name__ == "__main__":
    main()
