#!/usr/bin/env bash
# kx-store: kill -9 under a concurrent write load, then restart on the same
# data: every write that was acknowledged is there, revisions keep going up,
# and the store works as before.
. "$(dirname "$0")/lib.sh"

store_start || { echo "1..0 # SKIP kx-store did not start"; exit 1; }
U=/api/v1/namespaces/default/configmaps

writer() { # writes until the store dies; records the names it got 201 for
	local i=0 code
	while :; do
		i=$((i + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			-d "{\"metadata\":{\"name\":\"w$1-$i\"},\"data\":{\"i\":\"$i\"}}" "$KX_SERVER$U")
		[ "$code" = 201 ] && echo "w$1-$i" >>"$T/acked.$1"
		[ "$code" = 000 ] && break
	done
}
pids=""
for w in 1 2 3 4 5 6; do writer $w & pids="$pids $!"; done
wait_for 20 sh -c "cat '$T'/acked.* 2>/dev/null | wc -l | awk '{exit !(\$1 >= 150)}'"
kill -9 "$STORE_PID"
for p in $pids; do wait $p; done
acked=$(cat "$T"/acked.* | wc -l)
diag "acknowledged before kill -9: $acked"
ok "writes were acknowledged before the kill" test "$acked" -ge 150
last_rv=$(cat "$T"/acked.* | wc -l)

store_start || { echo "not ok - restart"; exit 1; }
curl -s "$KX_SERVER$U" | jq -r '.items[].metadata.name' | sort >"$T/have"
sort "$T"/acked.* >"$T/want"
is "$(comm -23 "$T/want" "$T/have" | wc -l)" "0" "every acknowledged write survived kill -9"
rv=$(curl -s "$KX_SERVER$U" | jq -r .metadata.resourceVersion)
ok "the revision is at least the number of writes" test "$rv" -ge "$last_rv"
api POST $U '{"metadata":{"name":"after"}}' >"$T/a"
is "$API_CODE" "201" "the store takes writes after the restart"
ok "with a higher revision" test "$(jq -r .metadata.resourceVersion "$T/a")" -gt "$rv"
is "$(curl -s "$KX_SERVER/api/v1/namespaces" | jq -r '.items | length')" "4" "the namespaces are not made twice"

done_testing
