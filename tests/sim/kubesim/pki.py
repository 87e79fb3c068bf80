"""A certificate authority and a serving certificate for 127.0.0.1, made with the openssl
command once per simulator: the API servers speak HTTPS as kind's do, so kubectl sends
bearer tokens (it does not send them over plain HTTP) and checks the CA from the
kubeconfig."""

import base64
import os
import subprocess


def make(directory):
    os.makedirs(directory, exist_ok=True)
    ca_key, ca_crt = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    key, csr, crt = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt, "-days", "2",
        "-subj", "/CN=kubernetes", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,digitalSignature")
    run("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    with open(ca_crt, "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    return {"cert": crt, "key": key, "ca": ca_crt, "ca_data": ca_data}
