"""The official Python client (python3-kubernetes) against kx-store.

Run by 3003-python-client.t with /usr/bin/python3 and KX_SERVER set. Prints
one line per check: "ok<TAB>name" or "not ok<TAB>name<TAB>what was seen";
the shell test turns them into TAP. Each check compares what a program
using the client sees: returned models, their fields, ApiException status
and reason."""
import json
import os
import sys
import traceback

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

cfg = client.Configuration()
cfg.host = os.environ["KX_SERVER"]
api = client.ApiClient(cfg)
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
NS = "py"


def check(name, cond, seen=""):
    if cond:
        print("ok\t%s" % name)
    else:
        print("not ok\t%s\t%s" % (name, str(seen).replace("\n", " ")[:400]))
    sys.stdout.flush()


def error_of(fn, *args, **kw):
    """The ApiException fn raises, as (status, reason from the Status body)."""
    try:
        fn(*args, **kw)
    except ApiException as e:
        try:
            body = json.loads(e.body)
        except Exception:
            body = {}
        return e.status, body.get("reason"), body
    return None, None, {}


def meta(name, labels=None):
    return client.V1ObjectMeta(name=name, labels=labels)


def pod_spec(image="busybox:1"):
    return client.V1PodSpec(containers=[client.V1Container(name="c", image=image,
                                                          ports=[client.V1ContainerPort(container_port=80)])])


def main():
    # ---- namespaces -------------------------------------------------------
    ns = core.create_namespace(client.V1Namespace(metadata=meta(NS)))
    check("create_namespace returns a V1Namespace, Active",
          isinstance(ns, client.V1Namespace) and ns.status.phase == "Active", ns.status)
    check("read_namespace", core.read_namespace(NS).metadata.uid == ns.metadata.uid)
    names = [n.metadata.name for n in core.list_namespace().items]
    check("list_namespace lists it with the built-in ones", NS in names and "default" in names, names)
    st, reason, body = error_of(core.create_namespace, client.V1Namespace(metadata=meta(NS)))
    check("creating it again: ApiException 409 AlreadyExists", (st, reason) == (409, "AlreadyExists"), (st, reason))
    check("with Kubernetes' message", body.get("message") == 'namespaces "py" already exists', body.get("message"))

    # ---- pods -------------------------------------------------------------
    p = core.create_namespaced_pod(NS, client.V1Pod(metadata=meta("web", {"app": "web"}), spec=pod_spec()))
    check("create_namespaced_pod: Pending, defaults filled in",
          p.status.phase == "Pending" and p.spec.restart_policy == "Always"
          and p.spec.containers[0].image_pull_policy == "IfNotPresent", (p.status.phase, p.spec.restart_policy))
    check("creationTimestamp parses as a datetime", p.metadata.creation_timestamp.year >= 2024,
          p.metadata.creation_timestamp)
    got = core.read_namespaced_pod("web", NS)
    check("read_namespaced_pod", got.metadata.name == "web" and got.spec.containers[0].ports[0].container_port == 80)
    core.create_namespaced_pod(NS, client.V1Pod(metadata=meta("db", {"app": "db"}), spec=pod_spec()))
    sel = [x.metadata.name for x in core.list_namespaced_pod(NS, label_selector="app=web").items]
    check("list_namespaced_pod with a label selector", sel == ["web"], sel)
    allp = [x.metadata.name for x in core.list_pod_for_all_namespaces(field_selector="metadata.namespace=py").items]
    check("list_pod_for_all_namespaces with a field selector", sorted(allp) == ["db", "web"], allp)
    page = core.list_namespaced_pod(NS, limit=1)
    rest = core.list_namespaced_pod(NS, limit=1, _continue=page.metadata._continue)
    check("limit and continue page through", len(page.items) == 1 and len(rest.items) == 1
          and page.items[0].metadata.name != rest.items[0].metadata.name, (page.metadata._continue,))

    p = core.patch_namespaced_pod("web", NS, {"metadata": {"labels": {"tier": "front"}}})
    check("patch_namespaced_pod (the client's default patch type) merges labels",
          p.metadata.labels == {"app": "web", "tier": "front"}, p.metadata.labels)
    p = core.patch_namespaced_pod("web", NS, [{"op": "add", "path": "/metadata/annotations", "value": {"a": "1"}}])
    check("patch_namespaced_pod with a list is a JSON patch", p.metadata.annotations == {"a": "1"}, p.metadata.annotations)
    p = core.patch_namespaced_pod("web", NS, {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}})
    check("a strategic merge patch merges containers by name",
          len(p.spec.containers) == 1 and p.spec.containers[0].image == "busybox:2"
          and p.spec.containers[0].ports[0].container_port == 80, p.spec.containers)
    p.metadata.labels["replaced"] = "yes"
    p = core.replace_namespaced_pod("web", NS, p)
    check("replace_namespaced_pod with the object read back", p.metadata.labels.get("replaced") == "yes")
    stale = core.read_namespaced_pod("web", NS)
    stale.metadata.resource_version = "1"
    st, reason, body = error_of(core.replace_namespaced_pod, "web", NS, stale)
    check("a replace with a stale resourceVersion: 409 Conflict", (st, reason) == (409, "Conflict"), (st, reason))
    s = core.patch_namespaced_pod_status("web", NS, {"status": {"phase": "Running", "podIP": "10.0.0.5"}})
    check("patch_namespaced_pod_status", s.status.phase == "Running" and s.status.pod_ip == "10.0.0.5", s.status.phase)
    check("read_namespaced_pod_status", core.read_namespaced_pod_status("web", NS).status.phase == "Running")
    s = core.patch_namespaced_pod("web", NS, {"status": {"phase": "Failed"}})
    check("a patch of the pod itself does not change its status", s.status.phase == "Running", s.status.phase)
    st, reason, body = error_of(core.create_namespaced_pod, NS,
                                client.V1Pod(metadata=meta("bad"), spec=client.V1PodSpec(containers=[])))
    check("an invalid pod: 422 Invalid", (st, reason) == (422, "Invalid"), (st, reason, body.get("message")))
    st, reason, body = error_of(core.read_namespaced_pod, "nosuch", NS)
    check("reading a missing pod: 404 NotFound", (st, reason) == (404, "NotFound"), (st, reason))
    check("with Kubernetes' message", body.get("message") == 'pods "nosuch" not found', body.get("message"))
    st, reason, _ = error_of(core.create_namespaced_pod, "nosuchns", client.V1Pod(metadata=meta("x"), spec=pod_spec()))
    check("a pod in a missing namespace: 404 NotFound", (st, reason) == (404, "NotFound"), (st, reason))
    d = core.delete_namespaced_pod("db", NS, grace_period_seconds=0)
    check("delete_namespaced_pod answers", d is not None)
    st, reason, _ = error_of(core.read_namespaced_pod, "db", NS)
    check("and the pod is gone", st == 404, st)

    # ---- services ---------------------------------------------------------
    svc = core.create_namespaced_service(NS, client.V1Service(
        metadata=meta("web"), spec=client.V1ServiceSpec(selector={"app": "web"},
                                                        ports=[client.V1ServicePort(port=80, target_port=8080)])))
    check("create_namespaced_service gets a cluster IP", bool(svc.spec.cluster_ip) and svc.spec.cluster_ip != "None",
          svc.spec.cluster_ip)
    check("target_port as an int-or-string", svc.spec.ports[0].target_port == 8080 and svc.spec.ports[0].protocol == "TCP",
          svc.spec.ports[0])
    svc = core.patch_namespaced_service("web", NS, {"spec": {"type": "NodePort"}})
    check("patch_namespaced_service to NodePort allocates a node port", svc.spec.ports[0].node_port is not None,
          svc.spec.ports[0])
    names = [x.metadata.name for x in core.list_service_for_all_namespaces().items]
    check("list_service_for_all_namespaces", "web" in names, names)
    core.delete_namespaced_service("web", NS)
    check("delete_namespaced_service", error_of(core.read_namespaced_service, "web", NS)[0] == 404)

    # ---- configmaps -------------------------------------------------------
    cm = core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("cm1", {"k": "v"}), data={"a": "1"}))
    check("create_namespaced_config_map", cm.data == {"a": "1"}, cm.data)
    cm.data["b"] = "2"
    cm = core.replace_namespaced_config_map("cm1", NS, cm)
    check("replace_namespaced_config_map", cm.data == {"a": "1", "b": "2"}, cm.data)
    cm = core.patch_namespaced_config_map("cm1", NS, {"data": {"a": None}})
    check("a patch with null removes a key", cm.data == {"b": "2"}, cm.data)
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("cm2", {"k": "v"})))
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("keep")))
    core.delete_collection_namespaced_config_map(NS, label_selector="k=v")
    left = [x.metadata.name for x in core.list_namespaced_config_map(NS).items]
    check("delete_collection_namespaced_config_map with a selector", left == ["keep"], left)

    # ---- nodes --------------------------------------------------------------
    n = core.create_node(client.V1Node(metadata=meta("n1", {"kubernetes.io/hostname": "n1"})))
    check("create_node", n.metadata.name == "n1")
    n = core.patch_node("n1", {"spec": {"unschedulable": True}})
    check("patch_node (cordon)", n.spec.unschedulable is True, n.spec)
    n = core.patch_node_status("n1", {"status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                 "capacity": {"cpu": "2", "pods": "110"}}})
    check("patch_node_status", n.status.conditions[0].type == "Ready" and n.status.capacity["cpu"] == "2",
          n.status.conditions)
    check("list_node", [x.metadata.name for x in core.list_node().items] == ["n1"])
    core.delete_node("n1")
    check("delete_node", error_of(core.read_node, "n1")[0] == 404)

    # ---- deployments and replicasets ---------------------------------------------
    tmpl = client.V1PodTemplateSpec(metadata=meta(None, {"app": "api"}), spec=pod_spec())
    dep = apps.create_namespaced_deployment(NS, client.V1Deployment(
        metadata=meta("api"), spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels={"app": "api"}), template=tmpl)))
    check("create_namespaced_deployment with defaults",
          dep.spec.strategy.type == "RollingUpdate" and dep.metadata.generation == 1, dep.spec.strategy)
    sc = apps.read_namespaced_deployment_scale("api", NS)
    check("read_namespaced_deployment_scale is a V1Scale", isinstance(sc, client.V1Scale) and sc.spec.replicas == 2
          and sc.status.selector == "app=api", sc)
    sc = apps.patch_namespaced_deployment_scale("api", NS, {"spec": {"replicas": 4}})
    check("patch_namespaced_deployment_scale", sc.spec.replicas == 4, sc.spec)
    sc.spec.replicas = 1
    sc = apps.replace_namespaced_deployment_scale("api", NS, sc)
    dep = apps.read_namespaced_deployment("api", NS)
    check("replace_namespaced_deployment_scale changes the deployment", dep.spec.replicas == 1 and sc.spec.replicas == 1,
          dep.spec.replicas)
    check("and its generation", dep.metadata.generation == 3, dep.metadata.generation)
    dep.status = client.V1DeploymentStatus(replicas=1, ready_replicas=1, observed_generation=3)
    dep = apps.replace_namespaced_deployment_status("api", NS, dep)
    check("replace_namespaced_deployment_status", dep.status.ready_replicas == 1, dep.status)
    dep = apps.patch_namespaced_deployment("api", NS, {"spec": {"template": {"metadata": {"annotations": {"r": "1"}}}}})
    check("patch_namespaced_deployment", dep.spec.template.metadata.annotations == {"r": "1"} and dep.metadata.generation == 4,
          dep.metadata.generation)
    dep.spec.replicas = 3
    dep = apps.replace_namespaced_deployment("api", NS, dep)
    check("replace_namespaced_deployment", dep.spec.replicas == 3 and dep.status.ready_replicas == 1, dep.spec.replicas)
    check("list_deployment_for_all_namespaces", [d.metadata.name for d in apps.list_deployment_for_all_namespaces().items] == ["api"])
    st, reason, body = error_of(apps.patch_namespaced_deployment_scale, "api", NS, {"spec": {"replicas": -1}})
    check("a negative scale: 422 Invalid", (st, reason) == (422, "Invalid"), (st, reason, body.get("message")))

    rs = apps.create_namespaced_replica_set(NS, client.V1ReplicaSet(
        metadata=meta("rs1"), spec=client.V1ReplicaSetSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "api"}), template=tmpl)))
    check("create_namespaced_replica_set", rs.spec.replicas == 1)
    sc = apps.patch_namespaced_replica_set_scale("rs1", NS, {"spec": {"replicas": 2}})
    check("patch_namespaced_replica_set_scale", sc.spec.replicas == 2 and apps.read_namespaced_replica_set("rs1", NS).spec.replicas == 2)
    rs = apps.patch_namespaced_replica_set_status("rs1", NS, {"status": {"replicas": 2, "readyReplicas": 2}})
    check("patch_namespaced_replica_set_status", rs.status.ready_replicas == 2, rs.status)
    check("read_namespaced_replica_set_status", apps.read_namespaced_replica_set_status("rs1", NS).status.replicas == 2)
    apps.delete_namespaced_replica_set("rs1", NS, propagation_policy="Background")
    check("delete_namespaced_replica_set", error_of(apps.read_namespaced_replica_set, "rs1", NS)[0] == 404)
    apps.delete_namespaced_deployment("api", NS)
    check("delete_namespaced_deployment", error_of(apps.read_namespaced_deployment, "api", NS)[0] == 404)

    # ---- watch ----------------------------------------------------------------------
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("w1", {"w": "1"}), data={"x": "1"}))
    core.patch_namespaced_config_map("w1", NS, {"data": {"x": "2"}})
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta("other")))
    core.delete_namespaced_config_map("w1", NS)
    w = watch.Watch()
    seen = [(e["type"], e["object"].metadata.name) for e in
            w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=1)]
    check("watch from a resourceVersion replays what happened since, as models",
          seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("ADDED", "other"), ("DELETED", "w1")], seen)
    seen = [(e["type"], e["object"].metadata.name) for e in
            w.stream(core.list_namespaced_config_map, NS, resource_version=rv, label_selector="w=1", timeout_seconds=1)]
    check("a watch with a label selector", [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"], seen)
    ev = next(iter(w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=1)))
    check("each event's object is a V1ConfigMap with its data", isinstance(ev["object"], client.V1ConfigMap)
          and ev["object"].data == {"x": "1"} and isinstance(ev["raw_object"], dict), ev["object"])
    w.stop()
    seen = sorted(e["object"].metadata.name for e in w.stream(core.list_namespaced_config_map, NS, timeout_seconds=1))
    check("a watch without a resourceVersion starts with what exists (ADDED)", seen == ["keep", "other"], seen)
    names = []
    for e in watch.Watch().stream(core.list_namespace, timeout_seconds=1):
        names.append(e["object"].metadata.name)
    check("a watch of a cluster-scoped kind", "py" in names and "default" in names, names)
    last = core.list_namespaced_config_map(NS).metadata.resource_version
    w2 = watch.Watch()
    got = []
    core.patch_namespaced_config_map("other", NS, {"data": {"y": "1"}})
    for e in w2.stream(core.list_namespaced_config_map, NS, resource_version=last, timeout_seconds=1):
        got.append((e["type"], e["object"].metadata.resource_version))
    check("resuming from the last resourceVersion seen gives only the newer events",
          len(got) == 1 and got[0][0] == "MODIFIED" and int(got[0][1]) > int(last), got)
    check("the Watch remembers the newest resourceVersion", w2.resource_version == got[0][1] if got else False,
          w2.resource_version)
    st, reason, _ = error_of(lambda: list(watch.Watch().stream(core.list_namespaced_config_map, NS,
                                                              resource_version="1", timeout_seconds=1)))
    check("a watch from a compacted resourceVersion: 410 Gone (or Expired)", st == 410, (st, reason))

    # ---- deleting the namespace ------------------------------------------------------
    d = core.delete_namespace(NS)
    check("delete_namespace: the namespace is Terminating",
          core.read_namespace(NS).status.phase == "Terminating", d)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        check("the script ran to its end", False, traceback.format_exc())
        sys.exit(1)
    check("the script ran to its end", True)
