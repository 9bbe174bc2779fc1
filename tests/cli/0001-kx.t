#!/usr/bin/env bash
# kx, the dispatcher, and what every program shares: --help, --version,
# --complete, and exit status 2 for a bad option.
. "$(dirname "$0")/lib.sh"

for b in "$TOP"/bin/*; do
	p=$(basename "$b")
	ok "$p --help exits 0" "$p" --help
	like "$("$p" --version)" "^$p [0-9]+\.[0-9]+" "$p --version names itself"
	fails "$p with an unknown option exits 2" 2 "$p" --no-such-option
	ok "$p --complete lists --help" sh -c "$p --complete | grep -qx -- --help"
	ok "$p has a man page" sh -c "ls '$TOP'/man/$p.[0-9]"
done

# kx runs kx-NAME from beside itself, passing the arguments through
mkdir -p "$T/bin"
cp "$TOP/bin/kx" "$T/bin/kx"
printf '#!/bin/sh\necho "hello $*"\n' >"$T/bin/kx-hello"
chmod +x "$T/bin/kx-hello"
is "$("$T/bin/kx" hello a 'b c')" "hello a b c" "kx NAME runs kx-NAME with its arguments"
like "$("$T/bin/kx" help)" "hello" "kx help lists programs found beside it"
fails "kx with an unknown command exits 2" 2 "$T/bin/kx" nosuchthing
like "$("$T/bin/kx" nosuchthing 2>&1)" "'nosuchthing' is not a kx command" "and says so"
like "$(kx --complete)" "help" "kx --complete offers help"

done_testing
