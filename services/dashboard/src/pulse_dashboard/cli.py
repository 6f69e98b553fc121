"""pulse-dashboard: serve the insights API and page (uvicorn), configured from the environment.

pulse-dashboard                 serve on PULSE_DASHBOARD_HOST:PULSE_DASHBOARD_PORT (127.0.0.1:8080)
pulse-dashboard --port 0        any free port (the URL is logged and printed)

Demo data without the pipeline: `pulse-seed` (the local stack's tools, pulse-devstack).
"""

from __future__ import annotations

import argparse
import socket
import sys

from pulse_common.logging import configure_logging
from pulse_common.settings import secret_values
from pulse_dashboard.settings import DashboardSettings


def serve(settings: DashboardSettings) -> int:
    import uvicorn

    from pulse_dashboard.app import create_app

    log = configure_logging("dashboard", settings.log_level, secrets=secret_values(settings))
    problem = settings.serving_problem()
    if problem is not None:
        log.error("not serving", extra={"reason": problem})
        print(f"pulse-dashboard: {problem}", file=sys.stderr)
        return 2
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this on Linux: without it a keep-alive response written in two
    # parts (headers, body) waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((settings.host, settings.port))
    # Listen before the URL is printed: whoever reads it may connect at once (uvicorn would only
    # listen once it has started, and a connection before that is refused).
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}/"
    log.info(
        "dashboard listening",
        extra={"url": url, "alias": settings.stack.opensearch_index_alias, "auth_mode": settings.auth_mode},
    )
    print(f"pulse-dashboard: {url}", flush=True)
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-dashboard", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", help="bind address (PULSE_DASHBOARD_HOST)")
    parser.add_argument("--port", type=int, help="port, 0 for any free one (PULSE_DASHBOARD_PORT)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the dashboard (the default)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = DashboardSettings(**overrides)
    except ValueError as exc:
        print(f"pulse-dashboard: invalid settings: {exc}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
