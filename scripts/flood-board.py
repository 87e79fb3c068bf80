"""A flood against the class board, for scripts/bench-class.sh: 1,000 connections that
send their request head one byte a second (slowloris; each reopened when the board drops
it) and one 1 GiB request line, generated as it is sent, for 8 seconds. Meanwhile a normal
request for board.json every 0.2 s, timed. Prints the latencies; exits 1 unless every
normal request got 200 within 2 s.

usage: flood-board.py URL   (the board's URL, on 127.0.0.1)
"""

import resource
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

SLOW = 1000
SECONDS = 8.0
TIMEOUT = 2.0


def main():
    url = sys.argv[1]
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("flood-board: only a board on 127.0.0.1 is flooded")
    address = ("127.0.0.1", parts.port)
    # 1,000 sockets need more than the usual 1,024 descriptors' headroom.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    stop = threading.Event()
    counts = {}
    threads = [
        threading.Thread(target=slowloris, args=(address, stop, counts)),
        threading.Thread(target=gigabyte_line, args=(address, stop, counts)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the slow connections are open
    latencies, failures = [], []
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url.split("?")[0].rstrip("/") + "/board.json",
                                        timeout=TIMEOUT) as answer:
                answer.read()
                if answer.status != 200:
                    failures.append(f"HTTP {answer.status}")
        except Exception as error:  # a refusal, a reset, or the timeout
            failures.append(str(error))
        elapsed = time.monotonic() - started
        if elapsed > TIMEOUT:
            failures.append(f"{elapsed:.1f} s")
        latencies.append(elapsed)
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    latencies.sort()
    print(f"flood: {SLOW} slowloris connections ({counts.get('opened', 0)} opened in all), "
          f"a 1 GiB request line cut off after {counts.get('line', 0) / 1e6:.1f} MB sent")
    print(f"flood: {len(latencies)} normal requests answered in "
          f"{latencies[len(latencies) // 2] * 1000:.0f} ms (median), "
          f"{latencies[-1] * 1000:.0f} ms (slowest); {len(failures)} not answered "
          f"(target: all within {TIMEOUT:.0f} s)")
    if failures:
        print("flood: not answered: " + "; ".join(sorted(set(failures))[:3]))
        sys.exit(1)


def slowloris(address, stop, counts):
    head = b"GET / HTTP/1.1\r\nHost: %s:%d\r\nX-a: " % (address[0].encode(), address[1])

    def connect():
        counts["opened"] = counts.get("opened", 0) + 1
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(address)
        return sock

    socks = [connect() for _ in range(SLOW)]
    sent_head = [False] * SLOW
    while not stop.is_set():
        for i, sock in enumerate(socks):
            try:
                sock.send(b"b" if sent_head[i] else head)
                sent_head[i] = True
            except BlockingIOError:
                pass  # still connecting: next round
            except OSError:  # dropped by the board: open another
                sock.close()
                socks[i] = connect()
                sent_head[i] = False
        stop.wait(1.0)
    for sock in socks:
        sock.close()


def gigabyte_line(address, stop, counts):
    sent = 0
    try:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"GET /")
            chunk = b"a" * 65536
            while sent < (1 << 30) and not stop.is_set():
                sent += sock.send(chunk)
    except OSError:
        pass  # the board closed it: what it should do
    counts["line"] = sent


if __name__ == "__main__":
    main()
