#!/usr/bin/env python3
"""schedule-gen.py NODES PODS: a cluster for bench/schedule.sh as one JSON List
on stdout: nodes in 10 zones (a tenth tainted dedicated=gpu, half with
disk=ssd), pods with mixed requests, a fifth with nodeSelector disk=ssd, some
tolerating the taint, some with preferred node affinity, all owned by
ReplicaSets of 50 pods (whose objects are in the list too)."""
import json, random, sys

nodes, pods = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(42)
items = []
for i in range(nodes):
    labels = {"kubernetes.io/hostname": "node-%05d" % i,
              "topology.kubernetes.io/zone": "zone-%d" % (i % 10),
              "disk": "ssd" if i % 2 == 0 else "hdd"}
    n = {"apiVersion": "v1", "kind": "Node",
         "metadata": {"name": "node-%05d" % i, "labels": labels},
         "spec": {},
         "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110",
                                    "ephemeral-storage": "100Gi"},
                    "conditions": [{"type": "Ready", "status": "True"}]}}
    if i % 10 == 9:
        n["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    items.append(n)
nrs = (pods + 49) // 50
for r in range(nrs):
    items.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": "rs-%04d" % r, "namespace": "default", "uid": "uid-rs-%04d" % r},
                  "spec": {"selector": {"matchLabels": {"app": "app-%04d" % r}}}})
cpus = ["100m", "250m", "500m", "1", "2"]
mems = ["128Mi", "256Mi", "512Mi", "1Gi", "4Gi"]
for i in range(pods):
    r = i // 50
    spec = {"containers": [{"name": "c", "image": "registry.local/app-%d:1" % (r % 20),
                            "resources": {"requests": {"cpu": rnd.choice(cpus),
                                                       "memory": rnd.choice(mems)}}}]}
    k = i % 20
    if k < 4:
        spec["nodeSelector"] = {"disk": "ssd"}
    if k == 5:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                "effect": "NoSchedule"}]
    if k == 7:
        spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 50, "preference": {"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-1", "zone-2"]}]}}]}}
    items.append({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "pod-%05d" % i, "namespace": "default",
                               "labels": {"app": "app-%04d" % r},
                               "creationTimestamp": "2026-01-01T00:00:00Z",
                               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                    "name": "rs-%04d" % r, "uid": "uid-rs-%04d" % r,
                                                    "controller": True}]},
                  "spec": spec})
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
