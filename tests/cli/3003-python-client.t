#!/usr/bin/env bash
# The official Python client (Debian's python3-kubernetes, importable only
# from /usr/bin/python3) against kx-store: CRUD, subresources, errors and
# watch for core and apps kinds. The cases are in python_client.py; each of
# its lines becomes one TAP result here.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY is not installed"
err=$("$PY" -c 'import kubernetes' 2>&1) || skip_all "python3-kubernetes is not importable from $PY: ${err##*$'\n'}"
store_start --history 8 --compact-interval 1s || exit 1

"$PY" "$(dirname "$0")/python_client.py" >"$T/py.out" 2>"$T/py.err"
rc=$?
while IFS=$'\t' read -r st name seen; do
	if [ "$st" = ok ]; then
		_result 0 "$name"
	else
		_result 1 "$name"
		diag "  saw: $seen"
	fi
done <"$T/py.out"
is "$rc" 0 "python_client.py exits 0"
[ -s "$T/py.err" ] && sed 's/^/# stderr: /' "$T/py.err" | head -20
done_testing
