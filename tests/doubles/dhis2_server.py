"""A DHIS2 Web API test double, as a real HTTP server process.

Run it with ``python -m tests.doubles.dhis2_server --port 8085`` from the repository
root. It speaks the part of DHIS2 2.40 that Afiya uses (system info, ``/api/me``, paged
metadata with ``fields`` and filters, data value set import and export, async import jobs)
with DHIS2's counting rules and conflict codes, keeps everything in memory, and exposes
``/__admin`` routes (see ``tests.doubles.dhis2.admin``) to seed it, move its clock and
inject network failures. It starts with the demo world of ``tests.doubles.dhis2.seed``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from tests.doubles.dhis2.handler import Dhis2DoubleServer
from tests.doubles.dhis2.seed import seed_demo
from tests.doubles.dhis2.store import Store


def serve(host: str, port: int, seed: str = "demo", verbose: bool = False) -> None:
    """Serve until SIGTERM/SIGINT; print ``LISTENING <port>`` once ready."""
    store = Store()
    if seed == "demo":
        seed_demo(store)
    server = Dhis2DoubleServer((host, port), store, verbose=verbose)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", choices=("demo", "empty"), default="demo")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.seed, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
