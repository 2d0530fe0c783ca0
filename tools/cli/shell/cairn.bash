# bash completion for cairn: cairn itself answers (`cairn __complete WORDS`),
# so verbs found on PATH, options, and the names of the store's containers
# and images complete on any --root or $CAIRN_ROOT.
_cairn() {
    local line=${COMP_LINE:0:COMP_POINT} words cur out
    read -ra words <<< "$line"
    [[ -z $line || $line == *[[:space:]] ]] && words+=("")
    cur=${words[${#words[@]}-1]}
    out=$(command "${words[0]}" __complete "${words[@]}" 2>/dev/null) || return 0
    local dir=${out##*$'\n'}
    [[ $out == *$'\n'* ]] && out=${out%$'\n'*} || out=
    COMPREPLY=()
    [[ -n $out ]] && mapfile -t COMPREPLY <<< "$out"
    # bash splits words at : and =; it replaces only the part after them
    local head=${cur%"${cur##*[:=]}"}
    [[ -n $head ]] && COMPREPLY=("${COMPREPLY[@]#"$head"}")
    [[ $dir == :none ]] && compopt +o default 2>/dev/null
    # `cp CONTAINER:PATH`: the path follows the colon
    [[ ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
    return 0
}
complete -F _cairn -o default cairn
