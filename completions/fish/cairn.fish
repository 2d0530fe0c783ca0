# fish completion for cairn: cairn itself answers (`cairn __complete WORDS`),
# so verbs found on PATH, options, and the names of the store's containers
# and images complete on any --root or $CAIRN_ROOT.
function __cairn_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (command $words[1] __complete $words 2>/dev/null)
    or return
    set -l n (count $out)
    test $n -gt 0; or return
    set -l dir $out[$n]
    if test $n -gt 1
        printf '%s\n' $out[1..(math $n - 1)]
    else if test "$dir" = :files
        __fish_complete_path (commandline -ct)
    end
end
complete -c cairn -f -a '(__cairn_complete)'
