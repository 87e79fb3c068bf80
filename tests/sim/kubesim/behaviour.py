"""What a container does once started: a small model that fits the lab's Job, plus
behaviours a test declares.

- the postgres image with no command is a server: it accepts connections 1.5 s after it
  starts and serves until stopped; its STOPSIGNAL is SIGINT (docker-library/postgres
  Dockerfile, "Fast Shutdown mode"), so a stop ends it with exit 0 (sidecar-facts §3);
- a script that runs `pg_isready` waits until a server in the pod accepts connections,
  then exits 0 half a second later; like the lab's script it gives up with exit 1 after
  60 s (120 tries, 0.5 s apart);
- a script that is only `exit N` exits N at once; `sleep N` exits 0 after N seconds;
- anything else exits 0 after 1 s.
- a script whose first line is `if [ ! -e FILE ]; then touch FILE; sleep N; exit C; fi`
  and which then `exec`s the postgres server exits C after N seconds on its first run
  and serves on every later one: FILE is on an emptyDir volume, which lives as long as
  the pod, so only the first run finds it missing (the lab's sidecar that crashes once);
- a script that ends in `exec docker-entrypoint.sh postgres` is the server itself;
- a script that `trap`s TERM with `sleep N; exit 0` and loops on `sleep 1` runs until
  stopped, then exits 0 once the loop's sleep and the trap's have run (a log shipper);
A shell script runs as PID 1, which ignores SIGTERM unless it traps it: it is killed
when the grace period ends (exit 137). Declared behaviours: {"exit": N, "after": T}, {"crash": true,
"after": T} (exits 1 each run), {"serve": true} (runs until stopped, exit 0 on stop),
{"neverReady": true} (runs, readiness never passes).
"""

import re

ACCEPT_AFTER = 1.5
CLIENT_WORK = 0.5
CLIENT_GIVE_UP = 60.0
SERVER_STOP = 0.5


def script_of(spec):
    return " ".join((spec.get("command") or []) + (spec.get("args") or []))


def classify(spec, declared=None):
    if declared:
        return dict(declared)
    script = script_of(spec)
    image = spec.get("image", "")
    base = image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
    if not script and base == "postgres":
        return {"serve": True, "accepts": True}
    # The shell script, line by line, as `sh -c` runs it: the first top-level line that
    # ends it or waits for postgres decides what it does.
    lines = "\n".join(spec.get("args") or spec.get("command") or []).splitlines()
    text = "\n".join(lines)
    once = re.search(r"if \[ ! -e (\S+) \]; then touch \1; sleep (\d+(?:\.\d+)?); exit (\d+); fi", text)
    serves = re.search(r"^\s*exec (docker-entrypoint\.sh )?postgres\b", text, re.M)
    if once and serves:
        return {"serve": True, "accepts": True,
                "once": {"exit": int(once.group(3)), "after": float(once.group(2))}}
    if serves:
        # `exec` replaces the shell: postgres itself is PID 1 and serves.
        return {"serve": True, "accepts": True}
    trap = re.search(r"trap '(?:sleep (\d+(?:\.\d+)?); )?exit 0' (?:TERM|SIGTERM)", text)
    if trap and re.search(r"while true; do .*sleep 1; done", text):
        # The trap runs once the loop's current `sleep 1` has ended.
        return {"run": True, "trapTerm": 1.0 + float(trap.group(1) or 0)}
    for line in lines:
        line = line.strip()
        match = re.fullmatch(r"exit\s+(\d+)", line)
        if match:
            return {"exit": int(match.group(1)), "after": 0.2}
        match = re.fullmatch(r"sleep\s+(\d+(?:\.\d+)?)", line)
        if match and len([l for l in lines if l.strip()]) == 1:
            return {"exit": 0, "after": float(match.group(1))}
        if re.fullmatch(r"sleep\s+(infinity|inf)", line):
            return {"run": True}
        if "pg_isready" in line:
            return {"client": True}
    return {"exit": 0, "after": 1.0}


def ignores_sigterm(spec, behaviour):
    """A server handles its stop signal; a shell as PID 1 does not, unless it traps it."""
    if "trapTerm" in behaviour:
        return False
    if behaviour.get("serve") and not script_of(spec):
        return False
    if behaviour.get("serve"):
        return False
    return True


def log_lines(behaviour):
    if behaviour.get("serve"):
        return [
            "PostgreSQL init process complete; ready for start up.",
            "LOG:  listening on IPv4 address \"0.0.0.0\", port 5432",
            "LOG:  database system is ready to accept connections",
        ]
    if behaviour.get("client"):
        return [
            "localhost:5432 - no response",
            "localhost:5432 - accepting connections",
            "CREATE TABLE",
            " table_schema | table_name ",
            "--------------+------------",
            " public       | films",
            "(1 row)",
            "",
        ]
    return []
