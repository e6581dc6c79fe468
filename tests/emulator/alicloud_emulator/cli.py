"""`alicloud-emulator serve --world WORLD.yml [--host 127.0.0.1] [--port 0] [--speed N] [--no-exec]`."""
import argparse
import signal
import sys
import threading

import yaml

from .accounts import WorldError


def read_world(path):
    """A world file in YAML or JSON (JSON is YAML)."""
    with open(path, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise WorldError("%s does not hold a mapping" % path)
    return doc


def serve(args):
    from .app import Emulator
    from .server import make_server

    emulator = Emulator(speed_override=args.speed, run_commands_override=False if args.no_exec else None)
    try:
        emulator.load_world(read_world(args.world))
    except (OSError, WorldError, yaml.YAMLError) as error:
        sys.stderr.write("alicloud-emulator: cannot load world %s: %s\n" % (args.world, error))
        return 2
    try:
        server = make_server(emulator, args.host, args.port)
    except OSError as error:
        sys.stderr.write("alicloud-emulator: cannot listen on %s:%s: %s\n" % (args.host, args.port, error))
        emulator.shutdown()
        return 2

    stop = threading.Event()

    def request_stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="alicloud-emulator-http", daemon=True)
    thread.start()
    sys.stdout.write("listening on %s\n" % server.url)
    sys.stdout.flush()
    while not stop.wait(3600):
        pass
    server.shutdown()
    server.server_close()
    emulator.shutdown()
    thread.join(timeout=5)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="alicloud-emulator",
                                     description="Local emulator of the Alibaba Cloud OOS, ESS, ECS and STS APIs.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the APIs and the /_emulator/ control plane")
    serve_parser.add_argument("--world", required=True, help="world file (YAML or JSON)")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve_parser.add_argument("--port", type=int, default=0, help="port (default 0: pick a free one)")
    serve_parser.add_argument("--speed", type=float, default=None,
                              help="simulated seconds per real second (overrides the world's speed)")
    serve_parser.add_argument("--no-exec", action="store_true",
                              help="do not run RunCommand scripts; simulate success instead")
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.speed is not None and args.speed <= 0:
            parser.error("--speed must be positive")
        return serve(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
