# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cairn_network_global_optspecs
    string join \n root= h/help V/version
end

function __fish_cairn_network_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cairn_network_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cairn_network_using_subcommand
    set -l cmd (__fish_cairn_network_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cairn-network -n "__fish_cairn_network_needs_command" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -s V -l version -d 'Print version'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "create" -d 'Make a network and its bridge. Prints its record'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "ls" -d 'List networks (a table on a terminal: NETWORK ID NAME DRIVER SCOPE)'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "inspect" -d 'Show networks as docker does, with their containers\' addresses'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "rm" -d 'Remove networks no running container is attached to, and their bridges'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "connect" -d 'Connect a container to a network: at once if it runs (an interface more: eth1, ...), and at every start. Prints nothing'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "disconnect" -d 'Disconnect a container from a network: its interface there goes at once, and the others no longer find it by name. Prints nothing'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "prune" -d 'Remove every user network no running container is attached to'
complete -c cairn-network -n "__fish_cairn_network_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand create" -l subnet -d 'Its IPv4 subnet (A.B.C.D/N, N from 8 to 30)' -r
complete -c cairn-network -n "__fish_cairn_network_using_subcommand create" -s d -l driver -d 'Accepted for docker\'s sake: the only driver is bridge' -r
complete -c cairn-network -n "__fish_cairn_network_using_subcommand create" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-network -n "__fish_cairn_network_using_subcommand create" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand ls" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-network -n "__fish_cairn_network_using_subcommand ls" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand ls" -s q -l quiet -d 'Only names'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand inspect" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand rm" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-network -n "__fish_cairn_network_using_subcommand rm" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand rm" -s f -l force -d 'Say nothing of a network that does not exist'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand connect" -l alias -d 'Another name the network\'s other containers find it by; may be repeated' -r
complete -c cairn-network -n "__fish_cairn_network_using_subcommand connect" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand connect" -s h -l help -d 'Print help'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand disconnect" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand disconnect" -s f -l force -d 'Accepted for docker\'s sake'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand disconnect" -s h -l help -d 'Print help'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand prune" -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-network -n "__fish_cairn_network_using_subcommand prune" -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-network -n "__fish_cairn_network_using_subcommand prune" -s f -l force -d 'Accepted for docker\'s sake: there is never a prompt'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "create" -d 'Make a network and its bridge. Prints its record'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "ls" -d 'List networks (a table on a terminal: NETWORK ID NAME DRIVER SCOPE)'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "inspect" -d 'Show networks as docker does, with their containers\' addresses'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "rm" -d 'Remove networks no running container is attached to, and their bridges'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "connect" -d 'Connect a container to a network: at once if it runs (an interface more: eth1, ...), and at every start. Prints nothing'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "disconnect" -d 'Disconnect a container from a network: its interface there goes at once, and the others no longer find it by name. Prints nothing'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "prune" -d 'Remove every user network no running container is attached to'
complete -c cairn-network -n "__fish_cairn_network_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm connect disconnect prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
