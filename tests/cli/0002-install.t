#!/usr/bin/env bash
# make install PREFIX=/usr DESTDIR=...: the programs, the node agent's log
# copier, the man pages and the completions land where the README says, and
# the bash completion is a file that works (not a link to itself). In a
# user's plain environment (USER_ENV).
. "$(dirname "$0")/lib.sh"
command -v make >/dev/null || skip_all "needs make"
D=$T/pkg
ok "make install PREFIX=/usr DESTDIR=..." "${USER_ENV[@]}" make -s -C "$TOP" install PREFIX=/usr DESTDIR="$D"
for b in "$TOP"/bin/*; do
	n=${b##*/}
	ok "bin/$n is installed" test -x "$D/usr/bin/$n"
	ok "its man page too" sh -c "ls '$D'/usr/share/man/man[18]/'$n'.[18]"
done
ok "kx-node-run's log copier, where it looks for it (../libexec/kx from its directory)" test -x "$D/usr/libexec/kx/copy-log"
C=$D/usr/share/bash-completion/completions
ok "the bash completion is a file" test -f "$C/kx" -a ! -L "$C/kx"
is "$(readlink "$C/kx-get")" kx "each program's completion links to it"
is "$(bash -c ". '$C/kx-get' && complete -p kx-get" 2>&1)" "complete -F _kx kx-get" "and sourcing it completes kx-get"
ok "the zsh completion" test -f "$D/usr/share/zsh/vendor-completions/_kx"
ok "make uninstall removes them" "${USER_ENV[@]}" make -s -C "$TOP" uninstall PREFIX=/usr DESTDIR="$D"
is "$(find "$D" -type f -o -type l)" "" "leaving no file behind"
done_testing
