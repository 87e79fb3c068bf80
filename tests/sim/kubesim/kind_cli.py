"""The `kind` stand-in (test support), wired to the simulator. It runs `docker` from PATH
for what real kind asks Docker (so Docker's failure modes reach kind as they do for real),
decodes the v1alpha4 config strictly, and fails as kubeadm init does when a component
refuses its feature gates.

Sources: kind's pkg/internal/apis/config/encoding/load.go (apiVersion and kind checked
before anything else: "unknown apiVersion: Y", "unknown kind X for apiVersion: Y"),
install-facts.md §2 (strict decoding "yaml: unmarshal errors: line N: field X not
found in type v1alpha4.Cluster"; "node(s) already exist for a cluster with the name";
featureGates go to every component; a refused gate ends in "failed to init node with
kubeadm"), wave2-facts.md §1.1 (kind inspects the node image by its full reference and
pulls when that fails), kind's pkg/cmd/kind/get/clusters ("No kind clusters found."),
pkg/cluster/internal/kubeconfig (context, cluster and user `kind-NAME`).
"""

import json
import os
import re
import subprocess
import sys
import tarfile

import yaml

from .state import control, read, record_call

FIELDS = {
    "Cluster": {"kind", "apiVersion", "name", "nodes", "networking", "featureGates", "runtimeConfig",
                "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902", "containerdConfigPatches",
                "containerdConfigPatchesJSON6902"},
    "Node": {"role", "image", "labels", "extraMounts", "extraPortMappings", "kubeadmConfigPatches",
             "kubeadmConfigPatchesJSON6902"},
    "Networking": {"ipFamily", "apiServerPort", "apiServerAddress", "podSubnet", "serviceSubnet",
                   "disableDefaultCNI", "kubeProxyMode", "dnsSearch"},
}
DEFAULT_IMAGES = {"v0.31": "kindest/node:v1.35.0", "v0.32": "kindest/node:v1.36.1",
                  "v0.33": "kindest/node:v1.37.0"}
LIST_CLUSTERS = ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format",
                 '{{.Label "io.x-k8s.kind.cluster"}}']


class KindError(Exception):
    pass


def _err(message, code=1):
    sys.stderr.write(f"ERROR: {message}\n")
    sys.exit(code)


def _docker(*args):
    result = subprocess.run(["docker", *args], capture_output=True, text=True)
    return result


def _docker_failed(args, result):
    shown = " ".join(a if " " not in a and "{" not in a else f"'{a}'" for a in args)
    return (f'command "docker {shown}" failed with error: exit status {result.returncode}\n'
            f"Command Output: {(result.stderr + result.stdout).strip()}")


def version():
    return read("kind-version.json", {}).get("version") or os.environ.get("SIDECAR_SIM_KIND_VERSION", "v0.33.0")


def decode_config(text):
    """kind's encoding.Parse: apiVersion and kind first (a loose decode into a typeMeta),
    then the strict decoder, with every unknown field and its line, as yaml.v3 reports
    them (pkg/internal/apis/config/encoding/load.go)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        raise KindError(f"could not determine kind / apiVersion for config: {error}")
    if root is not None and not isinstance(root, yaml.MappingNode):
        tag = root.tag.replace("tag:yaml.org,2002:", "!!")
        raise KindError("could not determine kind / apiVersion for config: yaml: unmarshal errors:\n"
                        f"  line {root.start_mark.line + 1}: cannot unmarshal {tag} into encoding.typeMeta")
    meta = {key.value: value.value for key, value in (root.value if root is not None else [])
            if key.value in ("kind", "apiVersion") and isinstance(value, yaml.ScalarNode)}
    api_version, kind = meta.get("apiVersion", ""), meta.get("kind", "")
    if api_version != "kind.x-k8s.io/v1alpha4":
        raise KindError(f"unknown apiVersion: {api_version}")
    if kind != "Cluster":
        raise KindError(f"unknown kind {kind} for apiVersion: {api_version}")
    problems = []

    def check(node, kind):
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            if key.value not in FIELDS[kind]:
                problems.append(f"line {key.start_mark.line + 1}: field {key.value} not found in type v1alpha4.{kind}")
            elif key.value == "nodes" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    check(item, "Node")
            elif key.value == "networking":
                check(value, "Networking")

    check(root, "Cluster")
    if problems:
        raise KindError("unable to decode config: yaml: unmarshal errors:\n  " + "\n  ".join(problems))
    return yaml.safe_load(text) or {}


def kubeconfig_path():
    paths = os.environ.get("KUBECONFIG")
    if paths:
        return paths.split(":")[0]
    return os.path.join(os.path.expanduser("~"), ".kube", "config")


def _load_kubeconfig(path):
    try:
        with open(path) as f:
            return yaml.safe_load(f) or {}
    except OSError:
        return {}


def _save_kubeconfig(path, config):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".kind-tmp"
    with open(tmp, "w") as f:
        yaml.safe_dump(config, f, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _entries(name, server, ca):
    """The cluster, context and user entries kind writes for cluster `name`."""
    context = f"kind-{name}"
    return {
        "clusters": {"name": context, "cluster": {"server": server, "certificate-authority-data": ca}},
        "contexts": {"name": context, "context": {"cluster": context, "user": context}},
        "users": {"name": context, "user": {"token": "kubernetes-admin"}},
    }


def write_kubeconfig(name, server, ca):
    path = kubeconfig_path()
    config = _load_kubeconfig(path)
    context = f"kind-{name}"
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    config.setdefault("preferences", {})
    for section, entry in _entries(name, server, ca).items():
        items = [i for i in config.get(section) or [] if i.get("name") != context]
        items.append(entry)
        config[section] = items
    config["current-context"] = context
    _save_kubeconfig(path, config)


def remove_kubeconfig(name):
    path = kubeconfig_path()
    config = _load_kubeconfig(path)
    if not config:
        return
    context = f"kind-{name}"
    for section in ("clusters", "contexts", "users"):
        config[section] = [i for i in config.get(section) or [] if i.get("name") != context]
    if config.get("current-context") == context:
        config["current-context"] = ""
    _save_kubeconfig(path, config)


def _flag(args, name, default=None):
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def _nodes(name):
    result = _docker("ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={name}", "--format", "{{.Names}}")
    if result.returncode != 0:
        return None, result
    return [n for n in result.stdout.split() if n], result


def create(args):
    name = _flag(args, "--name") or os.environ.get("KIND_CLUSTER_NAME")
    config_file = _flag(args, "--config")
    config = {}
    if config_file:
        try:
            with open(config_file) as f:
                text = f.read()
        except OSError as error:
            _err(f"failed to create cluster: error reading file: open {config_file}: {error.strerror.lower()}")
        try:
            config = decode_config(text)
        except KindError as error:
            _err(f"failed to create cluster: {error}")
    name = name or config.get("name") or "kind"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        _err(f"failed to create cluster: '{name}' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`")
    info = ["info", "--format", "{{json .}}"]
    result = _docker(*info)
    if result.returncode != 0:
        _err(f"failed to create cluster: failed to get docker info: {_docker_failed(info, result)}")
    nodes, result = _nodes(name)
    if nodes is None:
        _err(f"failed to create cluster: failed to list nodes: {result.stderr.strip()}")
    if nodes:
        _err(f'failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
    image = _flag(args, "--image")
    node_specs = config.get("nodes") or [{"role": "control-plane"}]
    if not image:
        image = node_specs[0].get("image") or DEFAULT_IMAGES.get(version().rsplit(".", 1)[0], "kindest/node:v1.37.0")
    shown = image.split("@")[0]
    log = sys.stderr
    log.write(f'Creating cluster "{name}" ...\n')
    inspect = _docker("inspect", "--type=image", image)
    if inspect.returncode != 0:
        pulled = None
        for _ in range(2):
            pulled = _docker("pull", image)
            if pulled.returncode == 0:
                break
        if pulled.returncode != 0:
            log.write(f" ✗ Ensuring node image ({shown}) 🖼\n")
            _err(f'failed to create cluster: failed to pull image "{image}": {_docker_failed(["pull", image], pulled)}')
    log.write(f" ✓ Ensuring node image ({shown}) 🖼\n")
    node = f"{name}-control-plane"
    run = _docker("run", "--name", node, "--label", f"io.x-k8s.kind.cluster={name}",
                  "--label", "io.x-k8s.kind.role=control-plane", "--privileged", "--detach", image)
    if run.returncode != 0:
        log.write(" ✗ Preparing nodes 📦\n")
        _err(f"failed to create cluster: {run.stderr.strip()}")
    log.write(" ✓ Preparing nodes 📦\n ✓ Writing configuration 📜\n")
    code, answer = control("POST", "/clusters", {"name": name, "image": image,
                                                  "featureGates": config.get("featureGates") or {},
                                                  "cpu": read("kind-version.json", {}).get("cpu", "2")})
    if code != 201:
        log.write(" ✗ Starting control-plane 🕹️\n")
        _docker("rm", "-f", node)
        log.write(f'Deleted nodes: ["{node}"]\n')
        detail = (answer or {}).get("error", "")
        _err(
            "failed to create cluster: failed to init node with kubeadm: command \"docker exec "
            f"--privileged {node} kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6\" "
            "failed with error: exit status 1\nCommand Output: [init] Using Kubernetes version: "
            f"{image.split(':')[1].split('@')[0]}\n[kubelet-check] Waiting for a healthy kubelet at "
            "http://127.0.0.1:10248/healthz. This can take up to 4m0s\n[kubelet-check] The kubelet is "
            "not healthy after 4m0.000449s\n\nUnfortunately, an error has occurred, likely caused by:\n"
            "\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of "
            "the node in some way (required cgroups disabled)\n\nkubelet: \"command failed\" "
            f"err=\"failed to set feature gates from initial flags-based config: {detail}\"\n"
            "error execution phase wait-control-plane: failed while waiting for the kubelet to start"
        )
    log.write(" ✓ Starting control-plane 🕹️\n ✓ Installing CNI 🔌\n ✓ Installing StorageClass 💾\n")
    write_kubeconfig(name, answer["server"], answer["ca"])
    log.write(f'Set kubectl context to "kind-{name}"\nYou can now use your cluster with:\n\n'
              f"kubectl cluster-info --context kind-{name}\n\nHave a nice day! 👋\n")


def get_clusters():
    result = _docker(*LIST_CLUSTERS)
    if result.returncode != 0:
        _err(f"failed to list clusters: {_docker_failed(LIST_CLUSTERS, result)}")
    names = sorted({line.strip() for line in result.stdout.splitlines() if line.strip()})
    if not names:
        sys.stderr.write("No kind clusters found.\n")
    for name in names:
        print(name)


def delete(args):
    name = _name(args)
    sys.stderr.write(f'Deleting cluster "{name}" ...\n')
    nodes, result = _nodes(name)
    if nodes is None:
        _err(f"failed to delete cluster \"{name}\": failed to list nodes: {_docker_failed(['ps'], result)}")
    remove_kubeconfig(name)
    if nodes:
        _docker("rm", "-f", "-v", *nodes)
        control("DELETE", f"/clusters/{name}")
        sys.stderr.write("Deleted nodes: [" + " ".join(f'"{n}"' for n in nodes) + "]\n")


def _name(args):
    return _flag(args, "--name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"


def _located(args):
    """The cluster's name and the simulator's answer for it, or kind's error."""
    name = _name(args)
    nodes, _ = _nodes(name)
    code, answer = control("GET", f"/clusters/{name}")
    if not nodes or code != 200:
        _err(f"could not locate any control plane nodes for cluster named '{name}'. "
             "Use the --name option to select a different cluster")
    return name, answer


def export_kubeconfig(args):
    name, answer = _located(args)
    write_kubeconfig(name, answer["server"], answer["ca"])
    sys.stderr.write(f'Set kubectl context to "kind-{name}"\n')


def get_kubeconfig(args):
    """Prints the cluster's kubeconfig; the user's is left alone."""
    name, answer = _located(args)
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": f"kind-{name}"}
    for section, entry in _entries(name, answer["server"], answer["ca"]).items():
        config[section] = [entry]
    print(yaml.safe_dump(config, sort_keys=True), end="")


def load_archive(args):
    name = _name(args)
    files = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in ("--name", "--nodes"))]
    nodes, _ = _nodes(name)
    if not nodes:
        _err(f'no nodes found for cluster "{name}"')
    for path in files:
        try:
            with tarfile.open(path) as tar:
                manifest = json.load(tar.extractfile("manifest.json"))
        except (OSError, tarfile.TarError, KeyError, ValueError) as error:
            _err(f"failed to load image: {error}")
        images = [t for entry in manifest for t in entry.get("RepoTags") or []]
        control("POST", f"/clusters/{name}/images", {"images": images})


def load_docker_image(args):
    name = _name(args)
    images = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "--name")]
    nodes, _ = _nodes(name)
    if not nodes:
        _err(f'no nodes found for cluster "{name}"')
    info = _docker("info", "--format", "{{json .}}")
    if info.returncode == 0 and "io.containerd.snapshotter" in info.stdout:
        # kind#3795: `ctr images import` of a `docker save` stream from the containerd store.
        _err(f'failed to load image: command "docker exec --privileged -i {nodes[0]} ctr --namespace=k8s.io '
             'images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit '
             "status 1\nCommand Output: ctr: content digest sha256:4d6fcb5d...: not found")
    for image in images:
        if _docker("inspect", "--type=image", image).returncode != 0:
            _err(f'image: "{image}" not present locally')
    control("POST", f"/clusters/{name}/images", {"images": images})


def main(argv):
    record_call("kind", argv)
    args = list(argv)
    words = [a for a in args if not a.startswith("-")][:2]
    if args[:1] == ["version"] or args[:1] == ["--version"]:
        print(f"kind {version()} go1.26.7 linux/amd64")
    elif words == ["create", "cluster"]:
        create(args[2:])
    elif words == ["get", "clusters"]:
        get_clusters()
    elif words == ["delete", "cluster"]:
        delete(args[2:])
    elif words == ["get", "kubeconfig"]:
        get_kubeconfig(args[2:])
    elif words == ["export", "kubeconfig"]:
        export_kubeconfig(args[2:])
    elif words == ["load", "image-archive"]:
        load_archive(args[2:])
    elif words == ["load", "docker-image"]:
        load_docker_image(args[2:])
    else:
        _err(f'unknown command "{" ".join(words)}" for "kind" (the stand-in does not model it)')


if __name__ == "__main__":
    main(sys.argv[1:])
