# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cairn_runtime_global_optspecs
    string join \n root= log= log-format= debug systemd-cgroup h/help V/version
end

function __fish_cairn_runtime_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cairn_runtime_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cairn_runtime_using_subcommand
    set -l cmd (__fish_cairn_runtime_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -l root -d 'Where container state is kept' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -l log -d 'Also write errors to FILE' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -l log-format -d 'The format of --log' -r -f -a "text\t''
json\t''"
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -l debug -d 'Accepted, for runc\'s callers; changes nothing'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -l systemd-cgroup -d 'Not supported: cgroups are made directly, never through systemd'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -s V -l version -d 'Print version'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "spec" -d 'Write a default config.json (cairn\'s defaults, running `sh` in rootfs)'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "features" -d 'Print what this runtime supports, as JSON'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "create" -d 'Create a container: set up, its process waiting to be started'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "start" -d 'Start a created container: its process executes its command'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "run" -d 'Create and start a container; in the foreground (exits with its status) unless --detach'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "exec" -d 'Run a process in a running container; exits with its status unless --detach'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "ps" -d 'List the processes of a container (`ps -ef` lines, or host pids as a JSON array with --format json)'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "pause" -d 'Freeze every process of a running container'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "resume" -d 'Thaw a paused container'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "state" -d 'Print a container\'s state (the runtime spec\'s state JSON)'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "kill" -d 'Send a signal (a name or a number; default SIGTERM) to a container'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "delete" -d 'Delete a stopped container\'s state; --force kills a running one'
complete -c cairn-runtime -n "__fish_cairn_runtime_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand spec" -s b -l bundle -d 'The bundle to write it in' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand spec" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand features" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand create" -s b -l bundle -d 'The bundle: config.json and its root file system' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand create" -l pid-file -d 'Write the container\'s pid to FILE once it is created' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand create" -l console-socket -d 'Send the master of the container\'s terminal to this unix socket' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand create" -l no-pivot -d 'Accepted, for runc\'s callers: the root is always pivoted into'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand create" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand start" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -s b -l bundle -d 'The bundle: config.json and its root file system' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -l pid-file -d 'Write the container\'s pid to FILE once it runs' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -l console-socket -d 'Send the master of the container\'s terminal to this unix socket (with --detach)' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -s d -l detach -d 'Create and start it, and return'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -l no-pivot -d 'Accepted, for runc\'s callers: the root is always pivoted into'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand run" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s p -l process -d 'The process (the runtime spec\'s `process` as JSON) instead of ARGS' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -l pid-file -d 'Write its pid to FILE once it runs' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -l console-socket -d 'Send the master of its terminal to this unix socket' -r -F
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -l cwd -d 'Its working directory in the container' -r
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s e -l env -d 'Add to its environment' -r
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s u -l user -d 'Run it as UID[:GID]' -r
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s d -l detach -d 'Leave it running and return'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s t -l tty -d 'Give it a terminal: its master goes to --console-socket, or without one (in the foreground) is relayed to and from our stdio'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand exec" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand ps" -s f -l format -r -f -a "table\t''
json\t''"
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand ps" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand pause" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand resume" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand state" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand kill" -s a -l all -d 'Signal every process of the container\'s cgroup'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand kill" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand delete" -s f -l force -d 'Kill it if it runs; a container that does not exist is no error'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand delete" -s h -l help -d 'Print help'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "spec" -d 'Write a default config.json (cairn\'s defaults, running `sh` in rootfs)'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "features" -d 'Print what this runtime supports, as JSON'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "create" -d 'Create a container: set up, its process waiting to be started'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "start" -d 'Start a created container: its process executes its command'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "run" -d 'Create and start a container; in the foreground (exits with its status) unless --detach'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "exec" -d 'Run a process in a running container; exits with its status unless --detach'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "ps" -d 'List the processes of a container (`ps -ef` lines, or host pids as a JSON array with --format json)'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "pause" -d 'Freeze every process of a running container'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "resume" -d 'Thaw a paused container'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "state" -d 'Print a container\'s state (the runtime spec\'s state JSON)'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "kill" -d 'Send a signal (a name or a number; default SIGTERM) to a container'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "delete" -d 'Delete a stopped container\'s state; --force kills a running one'
complete -c cairn-runtime -n "__fish_cairn_runtime_using_subcommand help; and not __fish_seen_subcommand_from spec features create start run exec ps pause resume state kill delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
