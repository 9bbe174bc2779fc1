#!/usr/bin/env bash
# kx NAME runs kx-NAME with its arguments and exit status; kx help NAME
# shows the man page (or the program's --help when no page is installed).
. "$(dirname "$0")/lib.sh"

like "$(kx help get 2>&1)" "kx-get .* list, get and watch objects" "kx help get shows kx-get's man page"
like "$(kx help apply 2>&1)" "last-applied-configuration" "kx help apply: the page, not just the usage"
fails "kx help nosuch exits 2" 2 kx help nosuch
like "$(kx help nosuch 2>&1)" "'nosuch' is not a kx command" "and says so"
is "$(kx help | grep -c '^  [a-z]')" "$(ls "$TOP"/bin/kx-* | wc -l)" "kx help lists every kx-NAME program, one line each"
like "$(kx help | grep '^  get ')" "^  get +.*\(kubectl get\)" "each with the Kubernetes piece it stands for"

# kx NAME ARGS: the program's output and exit status
is "$(kx get --version)" "$(kx-get --version)" "kx get runs kx-get"
fails "the exit status passes through (3: no store)" 3 kx get cm --server http://127.0.0.1:1
fails "a usage error is 2" 2 kx delete

# without a man page beside the programs: the program's own --help
mkdir -p "$T/bin"
cp "$TOP/bin/kx" "$TOP/bin/kx-get" "$T/bin/"
is "$(MANPATH=/nonexistent "$T/bin/kx" help get 2>&1 | head -1)" "$(kx-get --help 2>&1 | head -1)" \
	"without a man page, kx help NAME prints NAME --help"

done_testing
