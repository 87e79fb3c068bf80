"""State the stand-ins share between invocations: a JSON file per tool in the
simulator's directory, read and written under an exclusive lock, replaced atomically."""

import contextlib
import fcntl
import json
import os
import urllib.request


def sim_dir():
    path = os.environ.get("SIDECAR_SIM_DIR")
    if not path:
        raise SystemExit("SIDECAR_SIM_DIR is not set: this stand-in runs only inside sidecar-lab's tests")
    return path


@contextlib.contextmanager
def locked(name, default):
    directory = sim_dir()
    path = os.path.join(directory, name)
    with open(os.path.join(directory, name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = default
        before = json.dumps(data, sort_keys=True)
        yield data
        if json.dumps(data, sort_keys=True) != before:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, path)


def read(name, default):
    try:
        with open(os.path.join(sim_dir(), name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def record_call(tool, argv):
    """Every stand-in call, one line each, for the tests to read."""
    with open(os.path.join(sim_dir(), "calls.log"), "a") as f:
        f.write(" ".join([tool] + list(argv)) + "\n")


def control(method, path, body=None):
    """A call to the simulator's control server: (status, JSON answer)."""
    with open(os.path.join(sim_dir(), "control.url")) as f:
        url = f.read().strip()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
