#!/usr/bin/env bash
# docs/tutorial.md: every ```sh block, in order, as one script, in a network
# namespace of the test's own and with its temporary directory under $T, so
# that the tutorial cannot go stale. Each block must succeed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/9000-cluster-lib.sh"

DOC=$TOP/docs/tutorial.md
awk '/^```sh$/ { inblock = 1; n++; printf "echo \"### block %d\" >&2\n", n; next }
     /^```/ { inblock = 0; next }
     inblock { print }' "$DOC" >"$T/tutorial.sh"
blocks=$(grep -c '^```sh$' "$DOC")
ok "the tutorial has commands ($blocks blocks)" test "$blocks" -ge 10

# the tutorial runs in a process group of its own (setsid): what it started
# in the background is stopped with it if it fails half way, and the node it
# made is torn down
mkdir -p "$T/tmp"
cd "$TOP"
tutorial() { exec nsenter --net=/run/netns/"$NS" env TMPDIR="$T/tmp" setsid bash -e -o pipefail "$T/tutorial.sh"; }
bg tutorial >"$T/out" 2>"$T/err"
TUT=$BG_PID
stop_tutorial() {
	kill -- -"$TUT" 2>/dev/null
	for r in "$T"/tmp/*/node; do [ -d "$r" ] && echo "$r n1"; done >"$T/roots"
}
STOP=stop_tutorial
for _ in $(seq 1200); do kill -0 "$TUT" 2>/dev/null || break; sleep 0.5; done
wait "$TUT"
rc=$?
is "$rc" 0 "every command in docs/tutorial.md runs" ||
	diag "$(grep '### block' "$T/err" | tail -1)" "$(tail -30 "$T/err")" "$(tail -30 "$T/out")"
is "$(grep -c '### block' "$T/err")" "$blocks" "all $blocks blocks ran"
out=$(cat "$T/out")
like "$out" '"ADDED","hello",\{"greeting":"hi"\}' "the watch saw the ConfigMap (section 1)"
like "$out" 'deployment","create","ReplicaSet' "the dry run would create the ReplicaSet (section 3)"
like "$out" 'healthy' "a probe by hand (section 7)"
like "$out" 'Hello from a pod run by kx' "the Service answers on its cluster IP (section 8)"
like "$out" 'table ip kx' "the proxy's ruleset (section 8)"
is "$(ls "$T/tmp")" "" "the tutorial removes its directory"
is "$(pod_traces "$T/tmp")" "" "and leaves no pods behind"
is "$(inns nft list tables)" "" "nor an nft table"

done_testing
