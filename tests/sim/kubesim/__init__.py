"""A simulated Kubernetes cluster for sidecar-lab's tests (test support, never installed).

The API server speaks enough of the real REST API for an unmodified kubectl 1.36/1.37:
discovery, OpenAPI v3 (so kubectl validates server-side with fieldValidation=Strict),
Namespaces, Nodes, Jobs, Pods and Events with list, watch, create, patch and delete,
errors in the real Status shape, dry runs checked like creates, and per-minor rules for
1.28 to 1.37. A kubelet model runs the pods on one node from a small behaviour model.

Every behaviour cites its source in the module that models it; the facts come from
shared/reference/sidecar-facts.md and wave2-facts.md and the Kubernetes sources they name.
"""
