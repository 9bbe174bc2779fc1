# bash completion for kx and its programs.
#
# Options come from each program itself (`kx-NAME --complete` prints its
# long options, then its fixed words, one per line), so they never fall
# behind the code: for kx-get and kx-delete the fixed words are the resource
# types. Object names come from the store when one answers
# (`kx-get TYPE -o name`, in the namespace given with -n).

_kx_words() { # program: its options and words
	"$1" --complete 2>/dev/null
}

# The names of objects of type $1 (in namespace $2, if any).
_kx_names() {
	local ns=()
	[ -n "${2-}" ] && ns=(-n "$2")
	kx-get "$1" "${ns[@]}" -o name 2>/dev/null | sed 's|.*/||'
}

_kx() {
	local cur prev prog i w last="" ns="" nonopt=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	prog=${COMP_WORDS[0]##*/}
	i=1
	if [ "$prog" = kx ]; then
		if [ "$COMP_CWORD" = 1 ]; then
			COMPREPLY=($(compgen -W "$(_kx_words kx)" -- "$cur"))
			return
		fi
		if [ "${COMP_WORDS[1]}" = help ]; then
			COMPREPLY=($(compgen -W "$(_kx_words kx | grep -v '^-')" -- "$cur"))
			return
		fi
		prog=kx-${COMP_WORDS[1]}
		i=2
	fi

	# the words before the cursor: the namespace, and the operands so far
	local skip=0
	for w in "${COMP_WORDS[@]:$i:$((COMP_CWORD - i))}"; do
		if [ "$skip" = 1 ]; then
			skip=0
			[ "$last" = -n ] || [ "$last" = --namespace ] && ns=$w
			continue
		fi
		case $w in
		--namespace=*) ns=${w#*=} ;;
		-n | --namespace | -l | --selector | -o | --output | -f | --filename | --field-selector | --server | --timeout | --grace-period)
			skip=1 last=$w ;;
		-*) ;;
		=) ;;
		*) nonopt+=("$w") ;;
		esac
	done

	# option values
	case $prev in
	-n | --namespace)
		COMPREPLY=($(compgen -W "$(_kx_names namespaces)" -- "$cur"))
		return ;;
	-o | --output)
		COMPREPLY=($(compgen -W "table wide json yaml name jq=" -- "$cur"))
		return ;;
	-f | --filename)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	esac
	case $cur in
	--cascade=*)
		COMPREPLY=($(compgen -W "background foreground orphan" -- "${cur#*=}"))
		return ;;
	--dry-run=*)
		COMPREPLY=($(compgen -W "none client server" -- "${cur#*=}"))
		return ;;
	--output=*)
		COMPREPLY=($(compgen -W "table wide json yaml name jq=" -- "${cur#*=}"))
		return ;;
	-*)
		COMPREPLY=($(compgen -W "$(_kx_words "$prog" | grep '^-')" -- "$cur"))
		[ "${COMPREPLY[0]: -1}" = "=" ] && compopt -o nospace 2>/dev/null
		return ;;
	esac

	case $prog in
	kx-get | kx-delete)
		if [ ${#nonopt[@]} = 0 ]; then
			case $cur in
			*/*) # TYPE/NAME
				local t=${cur%%/*}
				COMPREPLY=($(compgen -P "$t/" -W "$(_kx_names "$t" "$ns")" -- "${cur#*/}")) ;;
			*)
				COMPREPLY=($(compgen -W "$(_kx_words "$prog" | grep -v '^-')" -- "$cur")) ;;
			esac
		else
			COMPREPLY=($(compgen -W "$(_kx_names "${nonopt[0]}" "$ns")" -- "$cur"))
		fi ;;
	*)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null ;;
	esac
}

complete -F _kx kx kx-store kx-apply kx-get kx-delete kx-schedule-once kx-reconcile \
	kx-node-run kx-container kx-image kx-health-check kx-proxy-sync kx-dns
