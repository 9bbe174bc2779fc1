#!/usr/bin/python3
"""gen-openapi.py: OpenAPI v3 schemas for the kinds kx-store serves.

Run at build time (make does it) with Debian's python3-kubernetes, whose
models describe every Kubernetes type: each field's JSON name, type, whether
it is required, and its documentation. Writes one JSON object to stdout:
{"schemas": {NAME: schema, ...}, "kinds": {"group/version/Kind": NAME}}.
kx-store serves these under /openapi/v3 (kubectl apply's validation,
kubectl explain) and checks fieldValidation=Strict against them.
"""
import inspect
import json
import re
import sys

import kubernetes.client.models as models

# The kinds kx-store serves: (group, version, kind, python model).
KINDS = [
    ("", "v1", "Namespace", "V1Namespace"),
    ("", "v1", "Node", "V1Node"),
    ("", "v1", "Pod", "V1Pod"),
    ("", "v1", "Service", "V1Service"),
    ("", "v1", "Endpoints", "V1Endpoints"),
    ("", "v1", "ConfigMap", "V1ConfigMap"),
    ("", "v1", "Secret", "V1Secret"),
    ("", "v1", "ServiceAccount", "V1ServiceAccount"),
    ("", "v1", "ResourceQuota", "V1ResourceQuota"),
    ("", "v1", "Event", "CoreV1Event"),
    ("", "v1", "ReplicationController", "V1ReplicationController"),
    ("", "v1", "Binding", "V1Binding"),
    ("apps", "v1", "Deployment", "V1Deployment"),
    ("apps", "v1", "ReplicaSet", "V1ReplicaSet"),
    ("coordination.k8s.io", "v1", "Lease", "V1Lease"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "V1EndpointSlice"),
    ("events.k8s.io", "v1", "Event", "EventsV1Event"),
    ("rbac.authorization.k8s.io", "v1", "Role", "V1Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "V1RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "V1ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "V1ClusterRoleBinding"),
    ("autoscaling", "v1", "Scale", "V1Scale"),
]

# Types of apimachinery's meta/v1; everything else is named after the group
# of the first kind that reaches it.
META = {"ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement",
        "OwnerReference", "ManagedFieldsEntry", "Condition", "Status",
        "StatusDetails", "StatusCause", "DeleteOptions", "Preconditions"}
GROUP_PKG = {"": "core", "apps": "apps", "coordination.k8s.io": "coordination",
             "discovery.k8s.io": "discovery", "events.k8s.io": "events",
             "rbac.authorization.k8s.io": "rbac", "autoscaling": "autoscaling"}

# Our own one-line descriptions of the kinds (the models do not carry them).
KIND_DOC = {
    "Namespace": "Namespace provides a scope for names.",
    "Node": "Node is a worker machine; each node runs the pods bound to it.",
    "Pod": "Pod is a group of containers that run together on one node.",
    "Service": "Service is a named set of pods and the policy to reach them.",
    "Endpoints": "Endpoints lists the addresses that implement a Service.",
    "ConfigMap": "ConfigMap holds configuration data for pods to consume.",
    "Secret": "Secret holds sensitive data such as passwords and keys.",
    "ServiceAccount": "ServiceAccount is an identity for processes that run in pods.",
    "ResourceQuota": "ResourceQuota limits the resources a namespace may use.",
    "Event": "Event is a report of something that happened in the cluster.",
    "ReplicationController": "ReplicationController keeps a number of pod replicas running.",
    "Binding": "Binding ties a pod to a node; the scheduler creates it.",
    "Deployment": "Deployment manages ReplicaSets to roll out pods declaratively.",
    "ReplicaSet": "ReplicaSet keeps a number of pod replicas running.",
    "Lease": "Lease is a lock with a holder and a duration, for heartbeats and leader election.",
    "EndpointSlice": "EndpointSlice is a subset of the endpoints of a Service.",
    "Role": "Role is a namespaced set of permissions.",
    "RoleBinding": "RoleBinding grants a Role's permissions to subjects.",
    "ClusterRole": "ClusterRole is a cluster-wide set of permissions.",
    "ClusterRoleBinding": "ClusterRoleBinding grants a ClusterRole's permissions to subjects.",
    "Scale": "Scale is the desired and current replica count of a scalable object.",
}

schemas = {}
names = {}  # python model -> schema name


def short(model):
    return re.sub(r"^(CoreV1|EventsV1|DiscoveryV1|StorageV1|AdmissionregistrationV1|V1)", "", model)


def doc_of(prop):
    d = inspect.getdoc(prop.fget) or ""
    parts = [p.strip() for p in d.split("\n\n")]
    parts = [p for p in parts if p and not p.startswith(("Gets the", ":return", ":rtype"))]
    return re.sub(r"\s*# noqa: E501", "", " ".join(parts)).strip()


def required_of(cls, attr):
    try:
        src = inspect.getsource(getattr(cls, attr).fset)
    except (TypeError, OSError):
        return False
    return "must not be `None`" in src


def type_schema(t, group):
    if t == "str":
        return {"type": "string"}
    if t == "int":
        return {"type": "integer", "format": "int64"}
    if t == "bool":
        return {"type": "boolean"}
    if t == "float":
        return {"type": "number", "format": "double"}
    if t == "datetime":
        return {"type": "string", "format": "date-time"}
    if t == "object":
        return {"x-kubernetes-preserve-unknown-fields": True}
    m = re.match(r"list\[(.*)\]$", t)
    if m:
        return {"type": "array", "items": type_schema(m.group(1), group)}
    m = re.match(r"dict\(str, (.*)\)$", t)
    if m:
        return {"type": "object", "additionalProperties": type_schema(m.group(1), group)}
    return {"$ref": "#/components/schemas/" + model_schema(t, group)}


def model_schema(model, group):
    if model in names:
        return names[model]
    s = short(model)
    pkg = "io.k8s.apimachinery.pkg.apis.meta.v1" if s in META else "io.k8s.api.%s.v1" % GROUP_PKG[group]
    name = "%s.%s" % (pkg, s)
    names[model] = name
    cls = getattr(models, model)
    props, req = {}, []
    for attr, t in cls.openapi_types.items():
        js = cls.attribute_map[attr]
        p = type_schema(t, group)
        d = doc_of(getattr(cls, attr))
        if d:
            p = dict(p, description=d) if "$ref" not in p else {"allOf": [p], "description": d}
        props[js] = p
        if required_of(cls, attr):
            req.append(js)
    sch = {"type": "object", "properties": props}
    if req:
        sch["required"] = req
    schemas[name] = sch
    return name


kinds = {}
for group, version, kind, model in KINDS:
    name = model_schema(model, group)
    schemas[name]["x-kubernetes-group-version-kind"] = [
        {"group": group, "version": version, "kind": kind}]
    schemas[name]["description"] = KIND_DOC.get(kind, "")
    kinds["%s/%s/%s" % (group, version, kind)] = name

json.dump({"schemas": schemas, "kinds": kinds}, sys.stdout, sort_keys=True, separators=(",", ":"))
