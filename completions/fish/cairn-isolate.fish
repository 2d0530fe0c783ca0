complete -c cairn-isolate -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-isolate -s e -l env -d 'Set an environment variable (K=V; a bare K takes this shell\'s value, or removes K when it has none)' -r
complete -c cairn-isolate -l env-file -d 'Read environment variables from a file: a K=V (or bare K) a line, `#` comments; -e wins' -r -F
complete -c cairn-isolate -s w -l workdir -d 'Working directory inside the container' -r
complete -c cairn-isolate -s u -l user -d 'User (name or uid) and group: USER[:GROUP]' -r
complete -c cairn-isolate -l network -l net -d 'Network: `bridge` (the default bridge cairn0: an address, a route and outbound NAT; run\'s default), a network `cairn network create` made, `none` (a namespace with only lo), `host`, `container:NAME` (a running container\'s), or the path of a network namespace to join (e.g. /run/netns/NAME). isolate\'s default: the network the container was made for or last ran on, else none' -r
complete -c cairn-isolate -s p -l publish -d 'Publish a container\'s port on every local address of the host, 127.0.0.1 included, or on IP only (DNAT in nftables on a bridge network; slirp4netns\'s own forwarder on slirp4netns); without HOSTPORT, on a free port' -r
complete -c cairn-isolate -s m -l memory -d 'Memory limit (bytes, or with k, m, g)' -r
complete -c cairn-isolate -l memory-swap -d 'Memory plus swap (bytes, or with k, m, g; -1 for unlimited swap); with -m alone, twice the memory, as docker\'s' -r
complete -c cairn-isolate -l pids-limit -d 'Largest number of processes and threads (default 2048, as podman; -1 for no limit)' -r
complete -c cairn-isolate -l cpus -d 'CPU quota in CPUs (e.g. 0.5)' -r
complete -c cairn-isolate -l log-opt -d 'Bounds of a detached container\'s log: `max-size=SIZE` per file (default 20m) and `max-file=N` files kept (default 5), as docker\'s local driver' -r
complete -c cairn-isolate -l detach-keys -d 'With -i or -t in the foreground: the keys that detach and leave the container running (`ctrl-X` or one character each, separated by commas; default ctrl-p,ctrl-q)' -r
complete -c cairn-isolate -l entrypoint -d 'Replace the image\'s entrypoint' -r
complete -c cairn-isolate -l format -d 'Output format of the record' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-isolate -s i -l interactive -d 'Keep stdin open (it is passed through in the foreground)'
complete -c cairn-isolate -s t -l tty -d 'Give the process a terminal (a new pty)'
complete -c cairn-isolate -l privileged -d 'Give the process every capability and no masked paths'
complete -c cairn-isolate -s P -l publish-all -d 'Publish every port the image EXPOSEs on a free host port'
complete -c cairn-isolate -s d -l detach -d 'Run in the background: a small supervisor keeps the output in the container\'s log and records the exit status'
complete -c cairn-isolate -l rm -d 'Remove the container and its anonymous volumes when its process exits (with -d, the supervisor removes them)'
complete -c cairn-isolate -l log -d 'In the foreground too, run it under the supervisor that keeps its output in the container\'s log (`cairn logs`), as docker\'s start -a does; without it the process writes to this stdout and stderr itself and dies with isolate'
complete -c cairn-isolate -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-isolate -s V -l version -d 'Print version'
