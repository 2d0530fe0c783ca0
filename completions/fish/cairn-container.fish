# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cairn_container_global_optspecs
    string join \n root= h/help V/version
end

function __fish_cairn_container_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cairn_container_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cairn_container_using_subcommand
    set -l cmd (__fish_cairn_container_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cairn-container -n "__fish_cairn_container_needs_command" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-container -n "__fish_cairn_container_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-container -n "__fish_cairn_container_needs_command" -s V -l version -d 'Print version'
complete -c cairn-container -n "__fish_cairn_container_needs_command" -f -a "prune" -d 'Remove every stopped (created or exited) container older than --min-age, with its read-write layer'
complete -c cairn-container -n "__fish_cairn_container_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cairn-container -n "__fish_cairn_container_using_subcommand prune" -l min-age -d 'Keep what is younger than this many seconds' -r
complete -c cairn-container -n "__fish_cairn_container_using_subcommand prune" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-container -n "__fish_cairn_container_using_subcommand prune" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-container -n "__fish_cairn_container_using_subcommand prune" -s f -l force -d 'Accepted for docker\'s sake: there is never a prompt'
complete -c cairn-container -n "__fish_cairn_container_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-container -n "__fish_cairn_container_using_subcommand help; and not __fish_seen_subcommand_from prune help" -f -a "prune" -d 'Remove every stopped (created or exited) container older than --min-age, with its read-write layer'
complete -c cairn-container -n "__fish_cairn_container_using_subcommand help; and not __fish_seen_subcommand_from prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
