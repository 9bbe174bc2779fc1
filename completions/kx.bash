# bash completion for kx and its programs.
#
# Options come from each program itself (`kx-NAME --complete` prints its
# options and fixed words one per line), so they never fall behind the code.
# Resource types complete after kx-get/kx-delete; object names too when a
# store answers (kx-get TYPE -o name).

_kx_words() { # program
	"$1" --complete 2>/dev/null
}

_kx_types="pods po services svc deployments deploy replicasets rs nodes no namespaces ns \
configmaps cm secrets endpoints ep endpointslices serviceaccounts sa events ev \
resourcequotas quota replicationcontrollers rc leases"

_kx() {
	local cur prog words i
	cur=${COMP_WORDS[COMP_CWORD]}
	prog=${COMP_WORDS[0]##*/}
	i=1
	if [ "$prog" = kx ]; then
		if [ "$COMP_CWORD" = 1 ]; then
			COMPREPLY=($(compgen -W "$(_kx_words kx)" -- "$cur"))
			return
		fi
		prog=kx-${COMP_WORDS[1]}
		i=2
	fi
	case $cur in
	-*)
		COMPREPLY=($(compgen -W "$(_kx_words "$prog")" -- "$cur"))
		[ "${COMPREPLY[0]: -1}" = "=" ] && compopt -o nospace 2>/dev/null
		return ;;
	esac
	case $prog in
	kx-get | kx-delete)
		local nonopt=() w
		for w in "${COMP_WORDS[@]:$i:$((COMP_CWORD - i))}"; do
			case $w in -*) ;; *) nonopt+=("$w") ;; esac
		done
		if [ ${#nonopt[@]} = 0 ]; then
			COMPREPLY=($(compgen -W "$_kx_types" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(kx-get "${nonopt[0]}" -o name 2>/dev/null | sed 's|.*/||')" -- "$cur"))
		fi ;;
	*)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}

complete -F _kx kx kx-store kx-apply kx-get kx-delete kx-schedule-once kx-reconcile \
	kx-node-run kx-container kx-image kx-health-check kx-proxy-sync kx-dns
