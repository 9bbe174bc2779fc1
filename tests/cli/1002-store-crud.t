#!/usr/bin/env bash
# kx-store: create, get, list, update, patch and delete for every kind it
# serves; metadata filled on create; 409 for an existing name and a stale
# resourceVersion; an update without one is unconditional; generation moves
# only with spec; Kubernetes' defaults.
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
N=/api/v1/namespaces/default

# path-of-collection kind apiVersion body
crud() {
	local coll=$1 kind=$2 av=$3 body=$4 name out rv
	name=$(jq -r .metadata.name <<<"$body")
	api POST "$coll" "$body" >"$T/c"
	is "$API_CODE" "201" "$kind: create is 201"
	is "$(jq -r '"\(.kind) \(.apiVersion)"' "$T/c")" "$kind $av" "$kind: answer has kind and apiVersion"
	like "$(jq -r '"\(.metadata.uid) \(.metadata.creationTimestamp) \(.metadata.resourceVersion)"' "$T/c")" \
		'^[0-9a-f-]{36} 20[0-9-]+T[0-9:]+Z [0-9]+$' "$kind: uid, creationTimestamp and resourceVersion filled"
	rv=$(jq -r .metadata.resourceVersion "$T/c")
	api GET "$coll/$name" >"$T/g"
	is "$API_CODE $(jq -r .metadata.resourceVersion "$T/g")" "200 $rv" "$kind: get finds it"
	api GET "$coll" >"$T/l"
	is "$(jq -r ".kind + \" \" + ([.items[].metadata.name] | index(\"$name\") != null | tostring)" "$T/l")" "${kind}List true" "$kind: list has it"
	api POST "$coll" "$body" >"$T/c2"
	is "$API_CODE $(jq -r .reason "$T/c2")" "409 AlreadyExists" "$kind: create again is 409 AlreadyExists"
	api PUT "$coll/$name" "$(jq -c '.metadata.labels={"x":"1"} | .metadata.resourceVersion="'"$rv"'"' <<<"$body")" >"$T/u"
	is "$API_CODE $(jq -r .metadata.labels.x "$T/u")" "200 1" "$kind: update with the current resourceVersion"
	api PUT "$coll/$name" "$(jq -c '.metadata.labels={"x":"2"} | .metadata.resourceVersion="'"$rv"'"' <<<"$body")" >"$T/u2"
	is "$API_CODE $(jq -r .reason "$T/u2")" "409 Conflict" "$kind: update with a stale resourceVersion is 409"
	CTYPE=application/merge-patch+json api PATCH "$coll/$name" '{"metadata":{"annotations":{"a":"b"}}}' >"$T/p"
	is "$API_CODE $(jq -r '.metadata.annotations.a + .metadata.labels.x' "$T/p")" "200 b1" "$kind: merge patch"
	api DELETE "$coll/$name" >"$T/d"
	is "$API_CODE" "200" "$kind: delete is 200"
	api GET "$coll/$name" >"$T/g2"
	if [ "$kind" = Namespace ]; then
		is "$API_CODE $(jq -r .status.phase "$T/g2")" "200 Terminating" "$kind: terminating after delete, until its finalizer goes"
	else
		is "$API_CODE $(jq -r .reason "$T/g2")" "404 NotFound" "$kind: gone after delete"
	fi
}

pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}'
tmpl='"template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}'
crud $N/pods Pod v1 "$pod"
crud $N/configmaps ConfigMap v1 '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"k":"v"}}'
crud $N/secrets Secret v1 '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s1"},"data":{"k":"dg=="}}'
crud $N/services Service v1 '{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc1"},"spec":{"selector":{"app":"w"},"ports":[{"port":80}]}}'
crud $N/endpoints Endpoints v1 '{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"svc1"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]}'
crud $N/serviceaccounts ServiceAccount v1 '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa1"}}'
crud $N/resourcequotas ResourceQuota v1 '{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q1"},"spec":{"hard":{"pods":"10"}}}'
crud $N/events Event v1 '{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},"reason":"Test","message":"hi"}'
crud $N/replicationcontrollers ReplicationController v1 '{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc1"},"spec":{'"$tmpl"'}}'
crud /api/v1/nodes Node v1 '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"capacity":{"cpu":"2"}}}'
crud /api/v1/namespaces Namespace v1 '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1"}}'
crud /apis/apps/v1/namespaces/default/deployments Deployment apps/v1 '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"selector":{"matchLabels":{"app":"w"}},'"$tmpl"'}}'
crud /apis/apps/v1/namespaces/default/replicasets ReplicaSet apps/v1 '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs1"},"spec":{"selector":{"matchLabels":{"app":"w"}},'"$tmpl"'}}'
crud /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases Lease coordination.k8s.io/v1 '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n1"},"spec":{"holderIdentity":"n1","leaseDurationSeconds":40}}'
crud /apis/discovery.k8s.io/v1/namespaces/default/endpointslices EndpointSlice discovery.k8s.io/v1 '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"es1"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"]}],"ports":[{"port":80}]}'
crud /apis/rbac.authorization.k8s.io/v1/clusterroles ClusterRole rbac.authorization.k8s.io/v1 '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r1"},"rules":[]}'

# the namespace ns1 is Terminating: nothing new in it; emptying spec.finalizers ends it
api POST /api/v1/namespaces/ns1/configmaps '{"metadata":{"name":"x"}}' >"$T/t"
is "$API_CODE $(jq -r .reason "$T/t")" "403 Forbidden" "no new content in a terminating namespace"
api PUT /api/v1/namespaces/ns1/finalize '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1"},"spec":{"finalizers":[]}}' >"$T/t"
is "$API_CODE" "200" "PUT finalize with no finalizers"
api GET /api/v1/namespaces/ns1 >/dev/null
is "$API_CODE" "404" "and the namespace is gone"
api DELETE /api/v1/namespaces/default >"$T/t"
is "$API_CODE $(jq -r .reason "$T/t")" "403 Forbidden" "the default namespace may not be deleted"

# defaults that controllers rely on
api POST /apis/apps/v1/namespaces/default/deployments '{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"w"}},'"$tmpl"'}}' >"$T/d"
is "$(jq -c '[.spec.replicas, .spec.strategy, .spec.revisionHistoryLimit, .spec.progressDeadlineSeconds, .metadata.generation]' "$T/d")" \
	'[1,{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},10,600,1]' "Deployment defaults and generation 1"
is "$(jq -c '.spec.template.spec | [.restartPolicy,.dnsPolicy,.terminationGracePeriodSeconds,.schedulerName,.containers[0].imagePullPolicy]' "$T/d")" \
	'["Always","ClusterFirst",30,"default-scheduler","Always"]' "pod template defaults"
api POST $N/pods "$pod" >"$T/p"
is "$(jq -c '[.spec.restartPolicy, .spec.containers[0].imagePullPolicy, .status.phase, .status.qosClass, .spec.serviceAccountName]' "$T/p")" \
	'["Always","IfNotPresent","Pending","BestEffort","default"]' "Pod defaults and status"
api POST $N/services '{"metadata":{"name":"web"},"spec":{"selector":{"app":"w"},"ports":[{"port":80,"name":"http"}]}}' >"$T/s"
is "$(jq -c '[.spec.type, .spec.ports[0].protocol, .spec.ports[0].targetPort, .spec.sessionAffinity]' "$T/s")" \
	'["ClusterIP","TCP",80,"None"]' "Service defaults"
like "$(jq -r .spec.clusterIP "$T/s")" '^10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+$' "a Service gets a cluster IP from 10.96.0.0/12"
api POST $N/services '{"metadata":{"name":"np"},"spec":{"type":"NodePort","selector":{"app":"w"},"ports":[{"port":80}]}}' >"$T/np"
like "$(jq -r .spec.ports[0].nodePort "$T/np")" '^3[0-2][0-9]{3}$' "a NodePort Service gets a node port"
api POST $N/services '{"metadata":{"name":"dup"},"spec":{"clusterIP":"'"$(jq -r .spec.clusterIP "$T/s")"'","ports":[{"port":80}]}}' >"$T/dup"
is "$API_CODE $(jq -r .reason "$T/dup")" "422 Invalid" "a cluster IP already taken is refused"
api POST $N/secrets '{"metadata":{"name":"sd"},"stringData":{"password":"hunter2"}}' >"$T/sd"
is "$(jq -c '[.type, .data.password, has("stringData")]' "$T/sd")" '["Opaque","aHVudGVyMg==",false]' "Secret stringData becomes data"

# generation moves with spec only; update without resourceVersion is unconditional
api PUT /apis/apps/v1/namespaces/default/deployments/web "$(jq -c '.metadata.labels={"l":"1"} | del(.metadata.resourceVersion)' "$T/d")" >"$T/d2"
is "$API_CODE $(jq -r .metadata.generation "$T/d2")" "200 1" "a label change leaves generation alone (and needs no resourceVersion)"
api PUT /apis/apps/v1/namespaces/default/deployments/web "$(jq -c '.spec.replicas=3 | del(.metadata.resourceVersion)' "$T/d2")" >"$T/d3"
is "$(jq -r .metadata.generation "$T/d3")" "2" "a spec change bumps generation"
rv3=$(jq -r .metadata.resourceVersion "$T/d3")
api PUT /apis/apps/v1/namespaces/default/deployments/web "$(cat "$T/d3")" >"$T/d4"
is "$(jq -r .metadata.resourceVersion "$T/d4")" "$rv3" "an update that changes nothing writes nothing"
api PUT /apis/apps/v1/namespaces/default/deployments/web "$(jq -c '.status={"replicas":9}' "$T/d3")" >"$T/d5"
is "$(jq -r '.status.replicas // "none"' "$T/d5")" "none" "an update of the object ignores status"

# status subresource changes only status
api PUT /apis/apps/v1/namespaces/default/deployments/web/status "$(jq -c '.status={"replicas":2} | .spec.replicas=7' "$T/d3")" >"$T/st"
is "$API_CODE $(jq -c '[.status.replicas, .spec.replicas]' "$T/st")" "200 [2,3]" "PUT status changes only status"
CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/default/deployments/web/status '{"status":{"readyReplicas":1}}' >"$T/st2"
is "$(jq -c '[.status.replicas, .status.readyReplicas]' "$T/st2")" "[2,1]" "PATCH status"
api GET /apis/apps/v1/namespaces/default/deployments/web/status >"$T/st3"
is "$(jq -r .kind "$T/st3")" "Deployment" "GET status gives the object"

# scale
api GET /apis/apps/v1/namespaces/default/deployments/web/scale >"$T/sc"
is "$(jq -c '[.kind, .apiVersion, .spec.replicas, .status.replicas, .status.selector]' "$T/sc")" '["Scale","autoscaling/v1",3,2,"app=w"]' "GET scale"
api PUT /apis/apps/v1/namespaces/default/deployments/web/scale '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":5}}' >"$T/sc2"
is "$API_CODE $(jq -r .spec.replicas "$T/sc2")" "200 5" "PUT scale"
CTYPE=application/merge-patch+json api PATCH /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":4}}' >"$T/sc3"
is "$(jq -r .spec.replicas "$T/sc3")" "4" "PATCH scale"
is "$(curl -s "$KX_SERVER/apis/apps/v1/namespaces/default/deployments/web" | jq -c '[.spec.replicas, .metadata.generation]')" "[4,4]" "scale changed the deployment and its generation"
api PUT /apis/apps/v1/namespaces/default/deployments/web/scale '{"metadata":{"name":"web","resourceVersion":"1"},"spec":{"replicas":5}}' >"$T/sc4"
is "$API_CODE" "409" "PUT scale with a stale resourceVersion is 409"

# JSON patch
CTYPE=application/json-patch+json api PATCH $N/pods/p1 '[{"op":"add","path":"/metadata/labels","value":{"a":"1"}},{"op":"add","path":"/spec/activeDeadlineSeconds","value":5},{"op":"replace","path":"/spec/activeDeadlineSeconds","value":6}]' >"$T/jp"
is "$API_CODE $(jq -c '[.metadata.labels.a, .spec.activeDeadlineSeconds]' "$T/jp")" '200 ["1",6]' "JSON patch add and replace"
CTYPE=application/json-patch+json api PATCH $N/pods/p1 '[{"op":"test","path":"/metadata/labels/a","value":"2"}]' >"$T/jp2"
is "$API_CODE" "422" "a failed JSON patch test is 422"
CTYPE=application/strategic-merge-patch+json api PATCH $N/pods/p1 '{"metadata":{"labels":{"b":"1"}},"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}' >"$T/smp"
is "$API_CODE $(jq -c '[.metadata.labels.b, (.spec.containers | length), .spec.containers[0].image, .spec.containers[0].imagePullPolicy]' "$T/smp")" \
	'200 ["1",1,"busybox:1.37","IfNotPresent"]' "strategic merge patch merges containers by name"
CTYPE=application/strategic-merge-patch+json api PATCH /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":4}}' >"$T/smp2"
is "$API_CODE $(jq -r .spec.replicas "$T/smp2")" "200 4" "strategic merge patch on scale (kubectl scale)"
CTYPE=application/strategic-merge-patch+json api PATCH $N/pods/p1 '{"metadata":{"labels":{"b":"1"}}}' >"$T/smp"
is "$API_CODE $(jq -c '.metadata.labels' "$T/smp")" '200 {"a":"1","b":"1"}' "strategic merge patch merges labels"
CTYPE=application/strategic-merge-patch+json api PATCH $N/pods/p1 '{"spec":{"containers":[{"name":"nosuch-merge-key-less","$patch":"delete"}]}}' >/dev/null
is "$API_CODE" "200" "a strategic \$patch: delete of an absent container is harmless"
CTYPE=text/plain api PATCH $N/pods/p1 'x' >"$T/tp"
is "$API_CODE $(jq -r .reason "$T/tp")" "415 UnsupportedMediaType" "a patch in another content type is 415"

# binding
api POST $N/pods/p1/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p1"},"target":{"apiVersion":"v1","kind":"Node","name":"n1"}}' >"$T/b"
is "$API_CODE $(jq -r .status "$T/b")" "201 Success" "binding a pod is 201"
is "$(curl -s "$KX_SERVER$N/pods/p1" | jq -r '.spec.nodeName + " " + (.status.conditions[] | select(.type=="PodScheduled") | .status)')" "n1 True" "the pod is bound and scheduled"
api POST $N/pods/p1/binding '{"metadata":{"name":"p1"},"target":{"name":"n2"}}' >"$T/b2"
is "$API_CODE $(jq -r .reason "$T/b2")" "409 Conflict" "binding a bound pod is 409"
api POST $N/pods '{"metadata":{"name":"p2"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
api POST $N/bindings '{"metadata":{"name":"p2"},"target":{"name":"n2"}}' >"$T/b3"
is "$API_CODE $(curl -s "$KX_SERVER$N/pods/p2" | jq -r .spec.nodeName)" "201 n2" "POST to the bindings collection binds too"

# generateName
api POST $N/configmaps '{"metadata":{"generateName":"gen-"}}' >"$T/gn"
like "$API_CODE $(jq -r .metadata.name "$T/gn")" "^201 gen-[a-z0-9]{5}$" "generateName makes a name"

# server-side dry run: everything is checked, nothing is stored
api POST "$N/configmaps?dryRun=All" '{"metadata":{"name":"dry"}}' >"$T/dry"
is "$API_CODE $(jq -r .metadata.name "$T/dry")" "201 dry" "a dry-run create answers as a create"
api GET $N/configmaps/dry >/dev/null
is "$API_CODE" "404" "and stores nothing"
api POST "$N/configmaps?dryRun=All" '{"metadata":{"name":"Dry"}}' >/dev/null
is "$API_CODE" "422" "a dry run still validates"
api DELETE "$N/pods/p2?dryRun=All" >/dev/null
api GET $N/pods/p2 >/dev/null
is "$API_CODE" "200" "a dry-run delete deletes nothing"

done_testing
