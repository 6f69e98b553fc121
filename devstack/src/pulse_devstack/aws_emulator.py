"""moto's AWS emulator served by hypercorn: HTTP/1.1 and HTTP/2 cleartext on one port.

moto_server itself (werkzeug) speaks only HTTP/1.1; the KCL's Java SDK talks HTTP/2 to
Kinesis. hypercorn serves moto's WSGI app over both (h2c by prior knowledge).

Run: python -m pulse_devstack.aws_emulator --port 4566
"""

from __future__ import annotations

import argparse
import asyncio
import signal


def build_app():
    from moto.server import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve moto over HTTP/1.1 and h2c with hypercorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.keep_alive_timeout = 75
    # The KCL and the producer send many requests per connection; raise hypercorn's stream limits.
    config.h2_max_concurrent_streams = 200
    config.wsgi_max_body_size = 64 * 1024 * 1024

    shutdown = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, shutdown.set)
        await serve(build_app(), config, shutdown_trigger=shutdown.wait, mode="wsgi")

    asyncio.run(run())


if __name__ == "__main__":
    main()
