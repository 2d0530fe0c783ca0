complete -c cairn-run -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-run -l name -d 'Name the container' -r
complete -c cairn-run -l entrypoint -d 'Replace the image\'s entrypoint' -r
complete -c cairn-run -s v -l volume -d 'Mount a host path (HOST_PATH:CTR_PATH, made if missing), a named volume (NAME:CTR_PATH, made on first use and filled from the image), or a new anonymous volume (CTR_PATH); `:ro` for read-only' -r
complete -c cairn-run -l mount -d 'Mount as docker\'s --mount: type=bind|volume|tmpfs,source=…, target=…[,readonly] (a bind\'s source must exist)' -r
complete -c cairn-run -l tmpfs -d 'Mount a new tmpfs (options as mount(8)\'s: size=64m,mode=1777)' -r
complete -c cairn-run -l hostname -d 'The container\'s hostname (default: its short ID)' -r
complete -c cairn-run -l cap-add -d 'Add a capability to docker\'s default set (NET_ADMIN, CAP_SYS_TIME, ALL, ...)' -r
complete -c cairn-run -l cap-drop -d 'Drop a capability from it (or ALL)' -r
complete -c cairn-run -s l -l label -d 'Set a label (KEY=VALUE; a bare KEY: empty), over the image\'s (inspect\'s .Config.Labels, ps --filter label=)' -r
complete -c cairn-run -l restart -d 'Start the process again when it ends, from its detached supervisor: no, on-failure[:N] (non-zero exits, at most N times), always, or unless-stopped; a stop ends it' -r
complete -c cairn-run -s e -l env -d 'Set an environment variable (K=V; a bare K takes this shell\'s value, or removes K when it has none)' -r
complete -c cairn-run -l env-file -d 'Read environment variables from a file: a K=V (or bare K) a line, `#` comments; -e wins' -r -F
complete -c cairn-run -s w -l workdir -d 'Working directory inside the container' -r
complete -c cairn-run -s u -l user -d 'User (name or uid) and group: USER[:GROUP]' -r
complete -c cairn-run -l network -l net -d 'Network: `bridge` (the default bridge cairn0: an address, a route and outbound NAT; run\'s default), a network `cairn network create` made, `none` (a namespace with only lo), `host`, `container:NAME` (a running container\'s), or the path of a network namespace to join (e.g. /run/netns/NAME). isolate\'s default: the network the container was made for or last ran on, else none' -r
complete -c cairn-run -s p -l publish -d 'Publish a container\'s port on every local address of the host, 127.0.0.1 included, or on IP only (DNAT in nftables on a bridge network; slirp4netns\'s own forwarder on slirp4netns); without HOSTPORT, on a free port' -r
complete -c cairn-run -s m -l memory -d 'Memory limit (bytes, or with k, m, g)' -r
complete -c cairn-run -l memory-swap -d 'Memory plus swap (bytes, or with k, m, g; -1 for unlimited swap); with -m alone, twice the memory, as docker\'s' -r
complete -c cairn-run -l pids-limit -d 'Largest number of processes and threads (default 2048, as podman; -1 for no limit)' -r
complete -c cairn-run -l cpus -d 'CPU quota in CPUs (e.g. 0.5)' -r
complete -c cairn-run -l log-opt -d 'Bounds of a detached container\'s log: `max-size=SIZE` per file (default 20m) and `max-file=N` files kept (default 5), as docker\'s local driver' -r
complete -c cairn-run -l detach-keys -d 'With -i or -t in the foreground: the keys that detach and leave the container running (`ctrl-X` or one character each, separated by commas; default ctrl-p,ctrl-q)' -r
complete -c cairn-run -l network-alias -d 'Another name the other containers of its user network find it by (in their /etc/hosts); may be repeated' -r
complete -c cairn-run -l format -d 'Output format with -d (table: docker\'s bare ID; id: the bare ID anywhere)' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-run -l read-only -d 'Make the root file system read-only (volumes and tmpfs stay writable)'
complete -c cairn-run -l init -d 'Run a minimal init as pid 1 (cairn-init, as docker\'s docker-init) that passes signals on to the command, reaps orphaned processes and exits with the command\'s status'
complete -c cairn-run -s i -l interactive -d 'Keep stdin open (it is passed through in the foreground)'
complete -c cairn-run -s t -l tty -d 'Give the process a terminal (a new pty)'
complete -c cairn-run -l privileged -d 'Give the process every capability and no masked paths'
complete -c cairn-run -s P -l publish-all -d 'Publish every port the image EXPOSEs on a free host port'
complete -c cairn-run -s d -l detach -d 'Run in the background: a small supervisor keeps the output in the container\'s log and records the exit status'
complete -c cairn-run -l rm -d 'Remove the container and its anonymous volumes when it exits'
complete -c cairn-run -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-run -s V -l version -d 'Print version'
