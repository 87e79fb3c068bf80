"""Drives headless Chromium (the Debian package) over the DevTools protocol for the
class-board test: loads the board, prints the tiles as the DOM shows them (one JSON line:
each learner's steps and exercises),
waits for a line on standard input (the test has advanced a learner), then polls the DOM
until that learner's tile changes (at most `--within` seconds) and prints the result and
how long it took; a screenshot of the finished page goes to `--screenshot`.

usage: board_check.py URL LEARNER --screenshot FILE [--within SECONDS]
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

# Null until the document has finished loading: a page still being parsed shows only
# the tiles read so far (under load, 22 of 30 were seen once).
# Each tile: the learner, its steps' states, and its exercises as [number, attempts, solved].
TILES = """document.readyState !== 'complete' ? null :
  JSON.stringify([...document.querySelectorAll('.tile')].map(t =>
  [t.dataset.learner,
   [...t.querySelectorAll('.cells:not(.exercises) .cell')].map(c => c.dataset.state),
   [...t.querySelectorAll('.exercises .cell')].map(c =>
     [c.dataset.exercise, c.dataset.attempts, c.dataset.solved])]))"""


def steps(tiles):
    """learner -> its steps' states, from TILES' answer."""
    return {tile[0]: tile[1] for tile in json.loads(tiles or "[]")}


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("board_check: no Chromium on PATH; scripts/test.sh installs the Debian package")


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("learner")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--within", type=float, default=3.0)
    args = parser.parse_args()
    profile = tempfile.mkdtemp(prefix="board-chromium-")
    browser = subprocess.Popen(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if time.monotonic() > deadline:
                sys.exit("board_check: Chromium did not start")
            time.sleep(0.1)
        time.sleep(0.2)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.call("Page.navigate", url=args.url)
        deadline = time.monotonic() + 20
        tiles = None
        while time.monotonic() < deadline:
            tiles = page.evaluate(TILES)
            if tiles and json.loads(tiles):
                break
            time.sleep(0.2)
        print(tiles, flush=True)
        before = steps(tiles).get(args.learner)
        sys.stdin.readline()  # the test has advanced the learner
        started = time.monotonic()
        changed = None
        while time.monotonic() - started < args.within:
            now = steps(page.evaluate(TILES)).get(args.learner)
            if now != before:
                changed = now
                break
            time.sleep(0.1)
        print(json.dumps({"changed": changed, "seconds": round(time.monotonic() - started, 2)}),
              flush=True)
        shot = page.call("Page.captureScreenshot", format="png")
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
