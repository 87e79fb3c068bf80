"""What a container does once started, and what it does with the signal that stops it: a
small model that fits the lab's Jobs, plus behaviours a test declares.

Running:
- the postgres image with no command is a server: it accepts connections 1.5 s after it
  starts and serves until stopped;
- a script that runs `pg_isready` waits until a server in the pod accepts connections,
  then exits 0 half a second later; like the lab's script it gives up with exit 1 after
  60 s (120 tries, 0.5 s apart);
- a script that is only `exit N` exits N at once; `sleep N` exits 0 after N seconds;
- a script whose first line is `if [ ! -e FILE ]; then touch FILE; sleep N; exit C; fi`
  and which then `exec`s the postgres server exits C after N seconds on its first run
  and serves on every later one: FILE is on an emptyDir volume, which lives as long as
  the pod, so only the first run finds it missing (the lab's sidecar that crashes once);
- a script that `exec`s postgres (`exec docker-entrypoint.sh postgres`) is the server;
- a script that starts postgres in the background (`docker-entrypoint.sh postgres &
  pid=$!`) and then `wait`s for it serves as long as postgres does;
- a script that loops (`while true; do ...; sleep N; done`) runs until stopped;
- anything else exits 0 after 1 s.
Declared behaviours: {"exit": N, "after": T}, {"crash": true, "after": T} (exits 1 each
run), {"serve": true} (runs until stopped, exit 0 on any stop signal), {"neverReady":
true} (runs, readiness never passes).

Stopping (what the kubelet's stop signal does):
- the signal is the container's `lifecycle.stopSignal` when the kubelet passes it
  (ContainerStopSignals), else the image's STOPSIGNAL, else SIGTERM (containerd
  internal/cri/server/container_stop.go); every `postgres` image declares `STOPSIGNAL
  SIGINT` (docker-library/postgres Dockerfile, "Fast Shutdown mode");
- postgres as PID 1 ends with exit 0 half a second after SIGINT, SIGTERM or SIGQUIT
  (its fast, smart and immediate shutdowns; postgresql.org "Shutting Down the Server");
  other signals leave it running;
- a process is PID 1 of its container, and the kernel drops a signal sent to PID 1 that
  it has no handler for: a single command that `sh -c` execs (`sleep 30`) ignores every
  stop signal and is killed when the grace period ends (exit 137);
- a shell that stays PID 1 (a script of several commands) runs the `trap` set for the
  signal; without one it ignores SIGTERM (and SIGQUIT, SIGHUP, ...), but a non-interactive
  `sh -c` catches SIGINT itself and exits 130 (dash and busybox ash: setsignal() catches
  SIGINT when `minusc`; onint()/raise_interrupt() re-raise it, which PID 1 ignores, and
  exit with 128 + SIGINT);
- the shell acts on a signal once the foreground command has ended (POSIX "trap": a
  trap waits for the foreground utility; the loop's `sleep 1` ends first), but at once
  during the `wait` builtin, which the signal interrupts;
- a trap's `sleep N` takes N seconds, `exit M` ends the script with M, `kill -SIG "$pid"`
  signals the background postgres, and the script's next `wait "$pid"` returns
  postgres's status (0), which ends the script; a trap that does none of these leaves
  the script running.
"""

import re

ACCEPT_AFTER = 1.5
CLIENT_WORK = 0.5
CLIENT_GIVE_UP = 60.0
SERVER_STOP = 0.5

SIGNALS = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
    "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12,
    "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17,
    "SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23,
    "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28,
    "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31,
}
POSTGRES_SHUTDOWN = {"SIGINT", "SIGTERM", "SIGQUIT"}
SHELLS = {"sh", "bash", "ash", "dash"}


def script_of(spec):
    return " ".join((spec.get("command") or []) + (spec.get("args") or []))


def _image_base(image):
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]


def image_stop_signal(image):
    """The image's STOPSIGNAL, or SIGTERM when it declares none."""
    return "SIGINT" if _image_base(image) == "postgres" else "SIGTERM"


def signal_name(value):
    """SIGINT for INT, SIGINT, 2 (as `trap` and `kill` accept them)."""
    text = str(value).strip().upper()
    if text.isdigit():
        return next((name for name, number in SIGNALS.items() if number == int(text)), None)
    if not text.startswith("SIG"):
        text = "SIG" + text
    return text if text in SIGNALS else None


def _shell_script(spec):
    """The script `sh -c` runs, or None when the container is not a shell script."""
    argv = list(spec.get("command") or []) + list(spec.get("args") or [])
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in SHELLS and argv[1] == "-c":
        return argv[2]
    return None


def _commands(text):
    """The script's top-level lines, without blanks and comments."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _parse_trap_action(action):
    """A trap's commands: the seconds its sleeps take, its `exit` code, the signal it
    sends to the background job."""
    out = {"sleep": 0.0, "exit": None, "kill": None, "empty": not action.strip()}
    for command in re.split(r"[;\n]|&&", action):
        command = command.strip()
        match = re.fullmatch(r"sleep\s+(\d+(?:\.\d+)?)", command)
        if match:
            out["sleep"] += float(match.group(1))
            continue
        match = re.fullmatch(r"exit(?:\s+(\d+))?", command)
        if match:
            out["exit"] = int(match.group(1) or 0)
            break
        match = re.fullmatch(r"kill(?:\s+-s\s+(\w+)|\s+-(\w+))?\s+\"?\$\{?pid\}?\"?", command)
        if match:
            out["kill"] = signal_name(match.group(1) or match.group(2) or "TERM")
    return out


def _traps(text):
    """`trap 'ACTION' SIG...` lines, later ones overriding earlier ones, as the shell
    sets them."""
    traps = {}
    pattern = re.compile(r"""^\s*trap\s+(?:'([^']*)'|"([^"]*)"|(-))\s+([\w\s]+?)\s*$""", re.M)
    for match in pattern.finditer(text):
        action = match.group(1) if match.group(1) is not None else match.group(2)
        for name in match.group(4).split():
            signal = signal_name(name)
            if signal is None:
                continue  # EXIT and names the shell does not know
            if match.group(3) == "-":
                traps.pop(signal, None)
            else:
                traps[signal] = _parse_trap_action(action)
    return traps


def classify(spec, declared=None):
    if declared:
        return dict(declared)
    script = script_of(spec)
    image = spec.get("image", "")
    if not script and _image_base(image) == "postgres":
        return {"serve": True, "accepts": True, "postgres": True}
    # The shell script, line by line, as `sh -c` runs it: the first top-level line that
    # ends it or waits for postgres decides what it does.
    shell_text = _shell_script(spec)
    if shell_text is not None:
        lines = _commands(shell_text)
    else:
        lines = "\n".join(spec.get("args") or spec.get("command") or []).splitlines()
    text = "\n".join(lines)
    commands = lines if shell_text is not None else []
    # sh -c execs a script that is one simple command: that command is PID 1.
    single = len(commands) <= 1 and not re.search(r"[;&|]", shell_text or "")
    shell = {"shell": shell_text is not None and not single, "traps": _traps(text)}
    once = re.search(r"if \[ ! -e (\S+) \]; then touch \1; sleep (\d+(?:\.\d+)?); exit (\d+); fi", text)
    serves = re.search(r"^\s*exec (docker-entrypoint\.sh )?postgres\b", text, re.M)
    if once and serves:
        return {"serve": True, "accepts": True, "postgres": True, **shell,
                "once": {"exit": int(once.group(3)), "after": float(once.group(2))}}
    if serves:
        # `exec` replaces the shell: postgres itself is PID 1 and serves.
        return {"serve": True, "accepts": True, "postgres": True}
    background = re.search(r"^\s*(docker-entrypoint\.sh\s+)?postgres\b[^\n&]*&(?!&)", text, re.M)
    if background and re.search(r"^\s*wait\b", text, re.M):
        # postgres runs as the shell's child; the shell waits for it in `wait`.
        return {"serve": True, "accepts": True, "child": True, "wait": True, **shell}
    loop = re.search(r"while\s+(?:true|:)\s*[;\n]\s*do\b(.*?)\bdone\b", text, re.S)
    sleeps = re.findall(r"\bsleep\s+(\d+(?:\.\d+)?)", loop.group(1)) if loop else []
    if sleeps:
        # An endless loop whose foreground is mostly its `sleep`.
        return {"run": True, "loop": float(sleeps[-1]), **shell}
    for line in lines:
        line = line.strip()
        match = re.fullmatch(r"exit\s+(\d+)", line)
        if match:
            return {"exit": int(match.group(1)), "after": 0.2, **shell}
        match = re.fullmatch(r"sleep\s+(\d+(?:\.\d+)?)", line)
        if match and len([l for l in lines if l.strip()]) == 1:
            return {"exit": 0, "after": float(match.group(1)), **shell}
        if re.fullmatch(r"sleep\s+(infinity|inf)", line):
            return {"run": True, **shell}
        if "pg_isready" in line:
            return {"client": True, "loop": 0.5, **shell}
    return {"exit": 0, "after": 1.0, **shell}


def stop_signal(spec, stop_signals_enabled):
    """The signal the runtime stops the container with."""
    if stop_signals_enabled:
        named = (spec.get("lifecycle") or {}).get("stopSignal")
        if named:
            return named
    return image_stop_signal(spec.get("image", ""))


def _foreground_left(behaviour, started_at, now, first_run):
    """Seconds until the shell's foreground command ends and the shell sees the signal."""
    if behaviour.get("wait") and not first_run:
        return 0.0  # the `wait` builtin returns at once
    if first_run and "once" in behaviour:
        return max(0.0, started_at + behaviour["once"]["after"] - now)
    period = behaviour.get("loop")
    if period:
        return period - ((now - started_at) % period)
    return 0.0


def on_signal(behaviour, signal, started_at, now, first_run=False):
    """What the container does with `signal` sent at `now`: (seconds until it exits,
    exit code), or None when it keeps running (it is killed when the grace period ends)."""
    if signal == "SIGKILL":
        return (0.0, 128 + SIGNALS["SIGKILL"])
    b = behaviour
    if b.get("serve") and not b.get("postgres") and not b.get("child") and "once" not in b:
        return (SERVER_STOP, 0)  # a declared server: any stop signal ends it cleanly
    if b.get("postgres") and not (first_run and "once" in b):
        # postgres is PID 1 (run directly or exec'd by the script).
        return (SERVER_STOP, 0) if signal in POSTGRES_SHUTDOWN else None
    if not b.get("shell"):
        return None  # PID 1 without a handler: the kernel drops the signal
    wait = _foreground_left(b, started_at, now, first_run)
    trap = b.get("traps", {}).get(signal)
    if trap is not None:
        if trap["empty"]:
            return None
        done = wait + trap["sleep"]
        if trap["exit"] is not None:
            return (done, trap["exit"])
        if trap["kill"] in POSTGRES_SHUTDOWN and b.get("child") and b.get("wait"):
            # The script's next `wait "$pid"` returns postgres's exit status.
            return (done + SERVER_STOP, 0)
        return None
    if signal == "SIGINT":
        return (wait, 128 + SIGNALS["SIGINT"])
    return None


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
