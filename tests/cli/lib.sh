# lib.sh: what every shell test shares. Source it, then use:
#   ok NAME CMD...          passes when CMD exits 0
#   fails NAME CODE CMD...  passes when CMD exits with status CODE
#   is GOT WANT NAME        passes when the strings are equal
#   like GOT REGEX NAME     passes when GOT matches the extended regex
#   skip_all REASON         skips the whole file (prints why)
#   store_start [ARGS]      starts kx-store on a free loopback port; sets KX_SERVER
#   bg CMD...               starts CMD in the background, killed on exit
#   free_port               prints a free TCP port on 127.0.0.1
#   "${USER_ENV[@]}" CMD... runs CMD in a user's plain environment
#   done_testing            prints the plan; the exit status says if all passed
# Every test runs in its own $T (a temporary directory removed at exit), and
# everything it started is killed by PID when it ends, pass or fail.
set -u
TOP=${KX_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH=$TOP/bin:$PATH
export PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/kx-test.XXXXXX")
_n=0
_failed=0
_pids=""
_cleanups=""

_finish() {
	local p
	for c in $_cleanups; do "$c" >/dev/null 2>&1 || true; done
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _finish EXIT
trap 'exit 1' INT TERM

_result() { # pass name
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		# a "# TODO" check is reported, not counted, as TAP says
		case $2 in *"# TODO"*) ;; *) _failed=$((_failed + 1)) ;; esac
	fi
}

diag() { printf '# %s\n' "$@"; }

ok() {
	local name=$1
	shift
	if "$@" >"$T/.out" 2>&1; then _result 0 "$name"; else
		_result 1 "$name"
		sed 's/^/#   /' "$T/.out" | head -20
	fi
}

fails() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/.out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then _result 0 "$name"; else
		_result 1 "$name"
		echo "#   exit status $rc, expected $want"
		sed 's/^/#   /' "$T/.out" | head -20
	fi
}

is() {
	if [ "$1" = "$2" ]; then _result 0 "$3"; else
		_result 1 "$3"
		printf '%s\n' "#   got:" "$1" | sed '2,$s/^/#     /'
		printf '%s\n' "#   expected:" "$2" | sed '2,$s/^/#     /'
	fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then _result 0 "$3"; else
		_result 1 "$3"
		printf '%s\n' "#   got:" "$1" | sed '2,$s/^/#     /' | head -20
		echo "#   expected to match: $2"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}

# Run a command in the background; it is killed when the test ends.
bg() {
	"$@" &
	_pids="$_pids $!"
	BG_PID=$!
}

# Register a function to run at exit (before processes are killed).
at_exit() { _cleanups="$_cleanups $1"; }

# Wait until CMD succeeds, up to SECONDS (default 10). Returns 1 on timeout.
wait_for() {
	local secs=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((secs * 10)) ] && return 1
		sleep 0.1
	done
}

# A user's plain environment, as a prefix to a command: under make check
# the environment carries make's own variables (MAKEFLAGS, and B=build/asan
# as a variable of its own), which a make run by a test must not inherit.
USER_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}")

# A free TCP port on loopback, from the kernel (free when asked: a server
# started on it a moment later gets it, unless another takes it first).
free_port() {
	local py=python3
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	$py -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Start kx-store on a free loopback port with its data under $T/store (or
# the --data given). Sets STORE_PID, KX_SERVER and STORE_LOG.
store_start() {
	local data="$T/store"
	mkdir -p "$data"
	STORE_LOG="$T/store.log.$_n.$RANDOM"
	bg kx-store --listen 127.0.0.1:0 --data "$data" "$@" 2>"$STORE_LOG"
	STORE_PID=$BG_PID
	if ! wait_for 10 grep -q 'listening on http://' "$STORE_LOG"; then
		echo "# kx-store did not start:"
		sed 's/^/#   /' "$STORE_LOG"
		return 1
	fi
	KX_SERVER=$(grep -o 'http://[0-9.:]*' "$STORE_LOG" | head -1)
	export KX_SERVER
}

# Stop the store started by store_start (SIGTERM, then wait).
store_stop() {
	kill "$STORE_PID" 2>/dev/null
	wait "$STORE_PID" 2>/dev/null
}

# curl against the store: api METHOD PATH [BODY] prints the body and sets
# API_CODE to the HTTP status and API_OUT to the body. Call it directly (not
# inside $(...), whose subshell would lose API_CODE): api GET /x >/dev/null.
api() {
	local method=$1 path=$2 body=${3-} ctype=${CTYPE:-application/json}
	if [ -n "$body" ]; then
		API_OUT=$(curl -s -w '\n%{http_code}' -X "$method" -H "Content-Type: $ctype" \
			--data-binary "$body" "$KX_SERVER$path")
	else
		API_OUT=$(curl -s -w '\n%{http_code}' -X "$method" "$KX_SERVER$path")
	fi
	API_CODE=${API_OUT##*$'\n'}
	API_OUT=${API_OUT%$'\n'*}
	printf '%s\n' "$API_OUT"
}
