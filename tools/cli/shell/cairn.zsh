#compdef cairn
# zsh completion for cairn: cairn itself answers (`cairn __complete WORDS`),
# so verbs found on PATH, options, and the names of the store's containers
# and images complete on any --root or $CAIRN_ROOT.
_cairn() {
    local -a out
    out=("${(@f)$(command ${words[1]} __complete "${(@)words[1,CURRENT]}" 2>/dev/null)}")
    local dir=${out[-1]}
    out=("${(@)out[1,-2]}")
    if (( ${#out} )); then
        # `cp CONTAINER:PATH`: no space after the colon
        compadd -S '' -- "${(@M)out:#*:}"
        compadd -- "${(@)out:#*:}"
    elif [[ $dir == :files ]]; then
        _files
    fi
}

if [ "$funcstack[1]" = "_cairn" ]; then
    _cairn "$@"
else
    compdef _cairn cairn
fi
