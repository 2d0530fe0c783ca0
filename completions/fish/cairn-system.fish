# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cairn_system_global_optspecs
    string join \n root= h/help V/version
end

function __fish_cairn_system_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cairn_system_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cairn_system_using_subcommand
    set -l cmd (__fish_cairn_system_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cairn-system -n "__fish_cairn_system_needs_command" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-system -n "__fish_cairn_system_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-system -n "__fish_cairn_system_needs_command" -s V -l version -d 'Print version'
complete -c cairn-system -n "__fish_cairn_system_needs_command" -f -a "prune" -d 'Remove what nothing references: stopped containers, dangling images (untagged layers that no layer and no container stands on, and below them what nothing else needs) and blobs that no layer and no tag names; with --all, first untag every image no container uses'
complete -c cairn-system -n "__fish_cairn_system_needs_command" -f -a "df" -d 'Show the space images, containers and volumes take, and how much of it a prune could free, as docker system df. Build cache is always empty: a build\'s steps are layers, counted as images'
complete -c cairn-system -n "__fish_cairn_system_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -l min-age -d 'Keep what is younger than this many seconds' -r
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -s a -l all -d 'Also remove every image no container uses, tagged or not'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -s f -l force -d 'Accepted for docker\'s sake: there is never a prompt'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand df" -l format -d 'Output format: json, table, or a Go template over docker\'s fields (Type, TotalCount, Active, Size, Reclaimable)' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-system -n "__fish_cairn_system_using_subcommand df" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-system -n "__fish_cairn_system_using_subcommand df" -s v -l verbose -d 'Each image, container and volume with the space it takes'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand df" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand help; and not __fish_seen_subcommand_from prune df help" -f -a "prune" -d 'Remove what nothing references: stopped containers, dangling images (untagged layers that no layer and no container stands on, and below them what nothing else needs) and blobs that no layer and no tag names; with --all, first untag every image no container uses'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand help; and not __fish_seen_subcommand_from prune df help" -f -a "df" -d 'Show the space images, containers and volumes take, and how much of it a prune could free, as docker system df. Build cache is always empty: a build\'s steps are layers, counted as images'
complete -c cairn-system -n "__fish_cairn_system_using_subcommand help; and not __fish_seen_subcommand_from prune df help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
