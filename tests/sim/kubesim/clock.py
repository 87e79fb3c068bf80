"""The simulated clock: wall time scaled by a speed factor the test chooses."""

import datetime
import threading
import time


class Clock:
    def __init__(self, speed=1.0):
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._real0 = time.monotonic()
        self._sim0 = time.time()

    def set_speed(self, speed):
        with self._lock:
            now = self._now_locked()
            self._real0 = time.monotonic()
            self._sim0 = now
            self._speed = float(speed)

    def _now_locked(self):
        return self._sim0 + (time.monotonic() - self._real0) * self._speed

    def now(self):
        """Simulated seconds since the epoch."""
        with self._lock:
            return self._now_locked()


def stamp(seconds):
    """RFC 3339 with second precision, as the API server writes timestamps."""
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def parse_stamp(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    ).timestamp()
