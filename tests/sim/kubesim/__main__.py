"""`python -m kubesim serve DIR [--speed N]`: run the control server, write its URL to
DIR/control.url, and stop when standard input closes (so a test that dies never leaves a
server behind) or on SIGTERM."""

import argparse
import os
import signal
import sys
import threading

from .clock import Clock
from .control import Control, serve


def main():
    parser = argparse.ArgumentParser(prog="kubesim")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("dir")
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    control = Control(Clock(args.speed), args.dir)
    server = serve(control)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    os.makedirs(args.dir, exist_ok=True)
    tmp = os.path.join(args.dir, "control.url.tmp")
    with open(tmp, "w") as f:
        f.write(url)
    os.replace(tmp, os.path.join(args.dir, "control.url"))
    done = threading.Event()

    def stdin_closed():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        done.set()

    threading.Thread(target=stdin_closed, daemon=True).start()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    control.stop_all()
    server.shutdown()
    # The stdin reader may still be blocked in read(): leave without joining it.
    os._exit(0)


if __name__ == "__main__":
    main()
