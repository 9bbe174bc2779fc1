#!/usr/bin/env bash
# kx-apply --prune -l: what the manifests no longer hold is deleted; what
# this apply never owned is left alone.
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

D=$T/m
mkdir -p "$D"
for n in p1 p2; do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  labels:\n    owner: t\n' $n >"$D/$n.yaml"
done
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s1\n  labels:\n    owner: t\nspec:\n  ports:\n  - port: 80\n' >"$D/s1.yaml"
# the same label, but not made by apply: never pruned
api POST /api/v1/namespaces/default/configmaps \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"handmade","labels":{"owner":"t"}}}' >/dev/null
# applied, but with another owner
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n  labels:\n    owner: u\n' | kx-apply -f - >/dev/null

is "$(kx-apply -f "$D" --prune -l owner=t)" "configmap/p1 created
configmap/p2 created
service/s1 created" "the first apply with --prune creates"
rm "$D/p2.yaml" "$D/s1.yaml"
is "$(kx-apply -f "$D" --prune -l owner=t --dry-run=client)" "configmap/p1 configured (dry run)
configmap/p2 pruned (dry run)
service/s1 pruned (dry run)" "a dry run says what would be pruned"
ok "and prunes nothing" kx-get cm p2
is "$(kx-apply -f "$D" --prune -l owner=t)" "configmap/p1 unchanged
configmap/p2 pruned
service/s1 pruned" "objects removed from the manifests are pruned"
fails "p2 is gone" 4 kx-get cm p2
fails "s1 is gone" 4 kx-get svc s1
ok "an object with the label but no last-applied annotation stays" kx-get cm handmade
ok "an object with another label stays" kx-get cm theirs
fails "--prune without -l is a usage error" 2 kx-apply -f "$D" --prune

done_testing
