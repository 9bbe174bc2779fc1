#!/usr/bin/env bash
# Quota refusal: with status.used kept current by kx-reconcile's
# resourcequota controller, kx-store's admission refuses a create that would
# exceed a ResourceQuota, with Kubernetes' 403 and message. The admission
# lives in kx-store; until it refuses, the refusal tests are marked TODO
# (TAP: reported, not counted as failures; prove says when they start to pass).
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "bin/kx-store is not built"

store_start || { done_testing; exit 1; }
NS=/api/v1/namespaces/default
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null
pod() { printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"x"}]}}' "$1"; }

# todo_is GOT WANT NAME: like is, but a TODO test (the store's part)
todo_is() {
	_n=$((_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_n - $3 # TODO kx-store quota admission"; else
		echo "not ok $_n - $3 # TODO kx-store quota admission"
		printf '%s\n' "#   got:" "$1" | sed '2,$s/^/#     /'
		printf '%s\n' "#   expected:" "$2" | sed '2,$s/^/#     /'
	fi
}

api POST $NS/resourcequotas '{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"pods":"5"}}}' >/dev/null
is "$API_CODE" 201 "a ResourceQuota of 5 pods"
for i in 1 2 3 4 5; do api POST $NS/pods "$(pod p$i)" >/dev/null; done
is "$API_CODE" 201 "five pods fit"
ok "a resourcequota pass" kx-reconcile -c resourcequota
is "$(api GET $NS/resourcequotas/q | jq -c '.status')" '{"hard":{"pods":"5"},"used":{"pods":"5"}}' \
	"status.used says 5 of 5"

body=$(api POST $NS/pods "$(pod p6)")
todo_is "$API_CODE" 403 "a sixth pod is refused with 403"
todo_is "$(printf '%s' "$body" | jq -r '.message' 2>/dev/null)" \
	'pods "p6" is forbidden: exceeded quota: q, requested: pods=1, used: pods=5, limited: pods=5' \
	"with Kubernetes' message"
todo_is "$(printf '%s' "$body" | jq -r '.reason' 2>/dev/null)" Forbidden "reason Forbidden"

# whatever the store did, the controller counts what is there
api DELETE $NS/pods/p6 >/dev/null
api DELETE $NS/pods/p1 >/dev/null
ok "another pass" kx-reconcile -c resourcequota
is "$(api GET $NS/resourcequotas/q | jq -r '.status.used.pods')" 4 "a deleted pod frees its place"
api POST $NS/pods "$(pod p7)" >/dev/null
is "$API_CODE" 201 "so a new pod fits again"

done_testing
