#!/usr/bin/env bash
# bash (and zsh, when installed) completion: options from each program's own
# option table, resource types, option values, and object names when a store
# answers (and nothing, quietly, when none does).
. "$(dirname "$0")/lib.sh"
[ -x "$TOP/bin/kx-store" ] || skip_all "kx-store is not built"
store_start || { echo "1..1"; echo "not ok 1 - kx-store did not start"; exit 1; }

. "$TOP/completions/kx.bash"
comp() { # words... (the last is the one being completed)
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_kx 2>"$T/comp.err"
	[ ${#COMPREPLY[@]} = 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

for n in web-1 web-2 db; do
	api POST /api/v1/namespaces/default/configmaps "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$n\"}}" >/dev/null
done
api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}' >/dev/null
api POST /api/v1/namespaces/other/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere"}}' >/dev/null

# options: exactly the program's own table
is "$(comp kx-get --)" "$(kx-get --complete | grep '^-' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"kx-get -- offers every option of kx-get's table"
is "$(comp kx-get --sh)" "--show-labels" "a long option completes"
is "$(comp kx-apply --pr)" "--prune" "kx-apply's options"
is "$(comp kx-delete --ca)" "--cascade=" "an option taking a value ends with ="
is "$(comp kx-delete --cascade=f)" "foreground" "--cascade values"
is "$(comp kx-apply --dry-run=)" "client none server" "--dry-run values"
is "$(comp kx-get -o j)" "jq= json" "-o values"

# resource types
is "$(comp kx-get dep)" "deploy deployments" "resource types by plural and short name"
is "$(comp kx-delete s)" "sa secrets serviceaccounts services svc" "kx-delete completes types too"

# object names from the store
is "$(comp kx-get cm '')" "db web-1 web-2" "object names come from the store"
is "$(comp kx-get cm web)" "web-1 web-2" "and complete a prefix"
is "$(comp kx-delete cm web-1 w)" "web-1 web-2" "after the first name, more names"
is "$(comp kx-get -n other cm '')" "elsewhere" "in the namespace given with -n"
is "$(comp kx-get --namespace=other cm '')" "elsewhere" "or --namespace="
is "$(comp kx-get cm/w)" "cm/web-1 cm/web-2" "TYPE/NAME"
is "$(comp kx-get -n o)" "other" "-n completes namespaces"

# kx NAME ...
is "$(comp kx ap)" "apply" "kx completes its programs"
is "$(comp kx help ge)" "get" "kx help NAME"
is "$(comp kx get cm w)" "web-1 web-2" "kx get completes as kx-get does"
is "$(comp kx delete --cas)" "--cascade=" "kx delete completes kx-delete's options"

# no store: no names, no noise
KX_SERVER=http://127.0.0.1:1
is "$(comp kx-get cm '')" "" "without a store, no names"
is "$(cat "$T/comp.err")" "" "and nothing on the terminal"
is "$(comp kx-apply -f "$TOP/examples/app/dep")" "$TOP/examples/app/deployment.yaml" "-f completes file names"

# zsh: the same words, through the zsh function
if command -v zsh >/dev/null; then
	ok "_kx parses in zsh" zsh -n "$TOP/completions/_kx"
else
	echo "ok $((_n + 1)) # SKIP zsh is not installed"
	_n=$((_n + 1))
fi
done_testing
