"""What the SDK check scripts share: named checks, reported one line each, and the exit status."""
import sys

failures = []


def check(name, body):
    """Runs `body`, printing `ok` or `FAIL` with the error; every failure is kept by name."""
    try:
        body()
        print(f"ok   {name}")
    except Exception as error:  # noqa: BLE001 - every failure is reported by name
        failures.append(name)
        print(f"FAIL {name}: {error!r}")


def finish():
    """Exits 1 if any check failed."""
    sys.exit(1 if failures else 0)
