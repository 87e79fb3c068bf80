"""The `docker` stand-in (test support): an image store, the containers kind makes, and
the daemon's failure modes, worded as the Docker CLI words them.

Modes, from SIDECAR_SIM_DIR/docker-mode.json:
  daemon    "up" | "down" | "hang"              (default "up")
  version   the server (daemon) version, such as "28.2.2" or "20.10.24"
  client    the CLI's version (default: the server's); `save --platform` exists from 28.0
            (docker/cli a20eb45, "image/save: Add `--platform`", first tagged v28.0.0):
            an older CLI stops at `unknown flag: --platform` (cli/cobra.go FlagErrorFunc,
            exit 125), and a 28+ CLI against a daemon older than API 1.48 says
            `"--platform" requires API version 1.48, but the Docker daemon API version is
            1.47` (cmd/docker/docker.go areFlagsSupported, exit 1)
  store     "overlay2" | "containerd"           (Docker's containerd image store)
  registry  true | false                        (false: every pull fails, as with no registry)
  group     a group name: the socket is refused unless this process has that group,
            as for a user added to `docker` whose login has not picked it up yet
  cgroup    "2" | "1"                           (the host's cgroup version, as docker info says)
Sources: install-facts.md §3 (the daemon-down and permission-denied messages, `docker info
--format '{{json .}}'`), wave2-facts.md §1.1 (save --platform came with docker/cli#5331;
save/load keeps tags and RootFS.Layers, not registry digests); the API version each
release speaks is the DefaultVersion its CLI vendors (docker/cli tags: 20.10 1.41, 23 1.42,
24 1.43, 25 1.44, 26 1.45, 27.0-27.1 1.46, 27.2+ 1.47, 28.0 1.48, 28.1 1.49, 28.2 1.50,
28.3+ 1.51, 29.0 1.52, 29.3 1.54, 29.7 1.55).
"""

import grp
import hashlib
import io
import json
import os
import sys
import tarfile
import time

from .state import locked, read, record_call

SOCKET = "unix:///var/run/docker.sock"


def _mode():
    mode = {"daemon": "up", "version": "28.2.2", "store": "overlay2", "registry": True, "group": None,
            "cgroup": "2"}
    mode.update(read("docker-mode.json", {}))
    mode.setdefault("client", None)
    mode["client"] = mode["client"] or mode["version"]
    return mode


def _release(version):
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    return tuple(parts + [0] * (2 - len(parts)))


API_VERSIONS = [((20, 10), "1.41"), ((23, 0), "1.42"), ((24, 0), "1.43"), ((25, 0), "1.44"),
                ((26, 0), "1.45"), ((27, 0), "1.46"), ((27, 2), "1.47"), ((28, 0), "1.48"),
                ((28, 1), "1.49"), ((28, 2), "1.50"), ((28, 3), "1.51"), ((29, 0), "1.52"),
                ((29, 3), "1.54"), ((29, 7), "1.55")]


def _api(version):
    """The newest API version a Docker release speaks."""
    release = _release(version)
    out = API_VERSIONS[0][1]
    for first, api in API_VERSIONS:
        if release >= first:
            out = api
    return out


def _negotiated(mode):
    """The API version the CLI uses: the lower of its own and the daemon's."""
    client, server = _api(mode["client"]), _api(mode["version"])
    return min(client, server, key=_release)


def _fail(message, code=1):
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.exit(code)


def _client(mode):
    return {"Platform": {"Name": "Docker Engine - Community"}, "Version": mode["client"],
            "ApiVersion": _api(mode["client"]), "Os": "linux", "Arch": "amd64"}


def _reach_daemon(mode, what):
    """Exit as the CLI does when the daemon cannot be reached."""
    if mode["daemon"] == "hang":
        # A daemon that never answers: the real CLI waits on its socket for ever, even
        # when whoever ran it has died (kind's `docker ps`, orphaned when kind is killed),
        # so only a kill ends it. Bounded at ten minutes, so a failing test cannot leave it
        # running for ever; the tests look for it with `ps` long before that.
        time.sleep(600)
        sys.exit(1)
    if mode["daemon"] == "down":
        return f"Cannot connect to the Docker daemon at {SOCKET}. Is the docker daemon running?"
    group = mode.get("group")
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            gid = None
        if gid is None or (gid not in os.getgroups() and gid != os.getegid()):
            return (f"permission denied while trying to connect to the Docker daemon socket at {SOCKET}: "
                    f"Get \"http://%2Fvar%2Frun%2Fdocker.sock/v{_api(mode['client'])}/{what}\": "
                    "dial unix /var/run/docker.sock: connect: permission denied")
    return None


def _image_id(ref):
    return "sha256:" + hashlib.sha256(("image:" + ref).encode()).hexdigest()


def _layers(ref):
    return ["sha256:" + hashlib.sha256(f"{ref}:layer{i}".encode()).hexdigest() for i in range(3)]


def _normal(ref):
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def _operands(args, with_values):
    """The arguments that are not flags nor the values of `with_values` flags."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in with_values:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        out.append(arg)
    return out


def main(argv):
    record_call("docker", argv)
    mode = _mode()
    args = list(argv)
    if not args:
        _fail("Usage:  docker [OPTIONS] COMMAND")
    command = args.pop(0)
    path = f"docker {command}"
    if command == "image" and args:
        path = f"docker image {args[0]}"
        command = {"ls": "images", "inspect": "inspect", "rm": "rmi", "pull": "pull",
                   "save": "save", "load": "load", "tag": "tag"}.get(args[0], args[0])
        args.pop(0)
    platform_flag = any(a == "--platform" or a.startswith("--platform=") for a in args)
    if command == "save" and platform_flag and _release(mode["client"]) < (28, 0):
        # Flags are parsed before the daemon is asked anything.
        _fail(f"unknown flag: --platform\nSee '{path} --help'.", 125)
    if command == "version":
        error = _reach_daemon(mode, "version")
        server = None if error else {"Version": mode["version"], "ApiVersion": _api(mode["version"]),
                                     "Os": "linux", "Arch": "amd64"}
        if "--format" in args or "-f" in args:
            print(json.dumps({"Client": _client(mode), "Server": server}))
        else:
            print(f"Client:\n Version:           {mode['client']}")
            if server:
                print(f"\nServer:\n Engine:\n  Version:          {mode['version']}")
        if error:
            _fail(error)
        return
    error = _reach_daemon(mode, "info" if command == "info" else command)
    if error:
        if command == "info" and ("--format" in args or "-f" in args):
            print(json.dumps({"ServerErrors": [error], "ClientInfo": {"Version": mode["version"]}}))
        _fail(error)
    if command == "info":
        containerd = mode["store"] == "containerd"
        info = {
            "ID": "SIM0:DOCK:ER00", "ServerVersion": mode["version"], "CgroupVersion": mode["cgroup"],
            "CgroupDriver": "systemd", "DockerRootDir": "/var/lib/docker",
            "Driver": "overlayfs" if containerd else "overlay2",
            "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]] if containerd
            else [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
            "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "NCPU": 2,
            "MemTotal": 25000000000, "Name": "sim",
        }
        if "--format" in args or "-f" in args:
            fmt = args[(args.index("--format") if "--format" in args else args.index("-f")) + 1]
            if fmt == "{{json .}}":
                print(json.dumps(info))
            elif fmt.startswith("{{.") and fmt.endswith("}}"):
                print(info.get(fmt[3:-2], "<no value>"))
            else:
                print(json.dumps(info))
        else:
            print(f"Server:\n Server Version: {mode['version']}\n Cgroup Version: 2")
        return
    if command == "pull":
        ref = _normal(_operands(args, {"--platform"})[0])
        if not mode["registry"]:
            name = ref.split("@")[0].rsplit(":", 1)[0]
            _fail(f'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: '
                  f"lookup registry-1.docker.io on 127.0.0.53:53: server misbehaving")
        with locked("docker.json", {"images": {}, "containers": {}}) as state:
            state["images"][ref] = {"Id": _image_id(ref), "RootFS": {"Layers": _layers(ref)}}
        tag = ref.split("@")[0].rsplit(":", 1)[-1]
        print(f"{tag}: Pulling from {ref.split(':')[0]}\nDigest: sha256:{hashlib.sha256(ref.encode()).hexdigest()}\n"
              f"Status: Downloaded newer image for {ref}\n{ref}")
        return
    if command in ("inspect",):
        kind = None
        fmt = None
        refs = []
        i = 0
        while i < len(args):
            if args[i].startswith("--type"):
                kind = args[i].split("=", 1)[1] if "=" in args[i] else args[i + 1]
                i += 1 if "=" in args[i] else 2
                continue
            if args[i] in ("-f", "--format"):
                fmt = args[i + 1]
                i += 2
                continue
            refs.append(args[i])
            i += 1
        state = read("docker.json", {"images": {}, "containers": {}})
        found = []
        for ref in refs:
            image = state["images"].get(_normal(ref))
            if image is None:
                _fail(f"Error: No such image: {ref}" if kind == "image" else f"Error: No such object: {ref}")
            found.append({"RepoTags": [_normal(ref)], **image})
        if fmt == "{{json .RootFS.Layers}}":
            for image in found:
                print(json.dumps(image["RootFS"]["Layers"]))
        elif fmt:
            _fail(f"the stand-in does not model the format {fmt}")
        else:
            print(json.dumps(found, indent=4))
        return
    if command == "images":
        state = read("docker.json", {"images": {}, "containers": {}})
        for ref in sorted(state["images"]):
            print(ref)
        return
    if command == "save":
        out, platform, refs = None, None, []
        i = 0
        while i < len(args):
            if args[i] in ("-o", "--output"):
                out = args[i + 1]
                i += 2
            elif args[i] == "--platform" or args[i].startswith("--platform="):
                if _release(mode["client"]) < (28, 0):
                    _fail(f"unknown flag: --platform\nSee '{path} --help'.", 125)
                if _release(_negotiated(mode)) < (1, 48):
                    _fail(f'"--platform" requires API version 1.48, but the Docker daemon API '
                          f"version is {_negotiated(mode)}")
                platform = args[i].split("=", 1)[1] if "=" in args[i] else args[i + 1]
                i += 1 if "=" in args[i] else 2
            else:
                refs.append(args[i])
                i += 1
        state = read("docker.json", {"images": {}, "containers": {}})
        manifest = []
        for ref in refs:
            if _normal(ref) not in state["images"]:
                _fail(f"Error response from daemon: reference does not exist" if mode["store"] == "containerd"
                      else f"Error response from daemon: No such image: {ref}")
            manifest.append({"Config": _image_id(_normal(ref))[7:] + ".json", "RepoTags": [_normal(ref)],
                             "Layers": [l[7:] + "/layer.tar" for l in state["images"][_normal(ref)]["RootFS"]["Layers"]]})
        data = json.dumps(manifest).encode()
        tmp = out + ".part"
        with tarfile.open(tmp, "w") as tar:
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)
        return
    if command == "load":
        path = args[args.index("-i") + 1] if "-i" in args else args[args.index("--input") + 1]
        with tarfile.open(path) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        with locked("docker.json", {"images": {}, "containers": {}}) as state:
            for entry in manifest:
                # The layers travel in the archive: RootFS.Layers survive save and load.
                layers = ["sha256:" + l.split("/")[0] for l in entry.get("Layers") or []]
                for tag in entry.get("RepoTags") or []:
                    state["images"][tag] = {"Id": _image_id(tag), "RootFS": {"Layers": layers or _layers(tag)}}
                    print(f"Loaded image: {tag}")
        return
    if command == "ps":
        label_filter = None
        for i, a in enumerate(args):
            if a == "--filter" and args[i + 1].startswith("label="):
                label_filter = args[i + 1][len("label="):]
        state = read("docker.json", {"images": {}, "containers": {}})
        for name, container in sorted(state["containers"].items()):
            labels = container.get("labels", {})
            if label_filter:
                key, _, value = label_filter.partition("=")
                if key not in labels or (value and labels[key] != value):
                    continue
            if "--format" in args:
                fmt = args[args.index("--format") + 1]
                if fmt.startswith('{{.Label "'):
                    print(labels.get(fmt[len('{{.Label "'):-len('"}}')], ""))
                    continue
            print(name)
        return
    if command == "run":
        name, labels, image = None, {}, None
        i = 0
        while i < len(args):
            if args[i] == "--name":
                name = args[i + 1]
                i += 2
            elif args[i] == "--label":
                key, _, value = args[i + 1].partition("=")
                labels[key] = value
                i += 2
            elif args[i].startswith("-"):
                i += 1
            else:
                image = args[i]
                break
        with locked("docker.json", {"images": {}, "containers": {}}) as state:
            if name in state["containers"]:
                _fail(f'docker: Error response from daemon: Conflict. The container name "/{name}" is '
                      "already in use.", 125)
            state["containers"][name] = {"labels": labels, "image": image}
        print(hashlib.sha256(name.encode()).hexdigest())
        return
    if command == "rm":
        with locked("docker.json", {"images": {}, "containers": {}}) as state:
            for name in [a for a in args if not a.startswith("-")]:
                state["containers"].pop(name, None)
                print(name)
        return
    if command == "tag":
        source, target = args[0], args[1]
        with locked("docker.json", {"images": {}, "containers": {}}) as state:
            if _normal(source) not in state["images"]:
                _fail(f"Error response from daemon: No such image: {source}")
            state["images"][_normal(target)] = dict(state["images"][_normal(source)])
        return
    _fail(f"docker: '{command}' is not a docker command (the stand-in does not model it).\n"
          "See 'docker --help'", 1)


if __name__ == "__main__":
    main(sys.argv[1:])
