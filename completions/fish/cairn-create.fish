complete -c cairn-create -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-create -l name -d 'Name the container' -r
complete -c cairn-create -l entrypoint -d 'Replace the image\'s entrypoint' -r
complete -c cairn-create -s v -l volume -d 'Mount a host path (HOST_PATH:CTR_PATH, made if missing), a named volume (NAME:CTR_PATH, made on first use and filled from the image), or a new anonymous volume (CTR_PATH); `:ro` for read-only' -r
complete -c cairn-create -l mount -d 'Mount as docker\'s --mount: type=bind|volume|tmpfs,source=…, target=…[,readonly] (a bind\'s source must exist)' -r
complete -c cairn-create -l tmpfs -d 'Mount a new tmpfs (options as mount(8)\'s: size=64m,mode=1777)' -r
complete -c cairn-create -l hostname -d 'The container\'s hostname (default: its short ID)' -r
complete -c cairn-create -l cap-add -d 'Add a capability to docker\'s default set (NET_ADMIN, CAP_SYS_TIME, ALL, ...)' -r
complete -c cairn-create -l cap-drop -d 'Drop a capability from it (or ALL)' -r
complete -c cairn-create -s l -l label -d 'Set a label (KEY=VALUE; a bare KEY: empty), over the image\'s (inspect\'s .Config.Labels, ps --filter label=)' -r
complete -c cairn-create -l restart -d 'Start the process again when it ends, from its detached supervisor: no, on-failure[:N] (non-zero exits, at most N times), always, or unless-stopped; a stop ends it' -r
complete -c cairn-create -s e -l env -d 'Set an environment variable (K=V; a bare K takes this shell\'s value, or removes K when it has none)' -r
complete -c cairn-create -l env-file -d 'Read environment variables from a file: a K=V (or bare K) a line, `#` comments; -e wins' -r -F
complete -c cairn-create -s w -l workdir -d 'Working directory inside the container' -r
complete -c cairn-create -s u -l user -d 'User (name or uid) and group: USER[:GROUP]' -r
complete -c cairn-create -s a -l attach -d 'The streams a client attaches to (STDIN, STDOUT, STDERR; default stdout, stderr and with -i stdin), as inspect\'s Config.Attach*' -r
complete -c cairn-create -s m -l memory -d 'Memory limit (bytes, or with k, m, g)' -r
complete -c cairn-create -l memory-swap -d 'Memory plus swap (bytes, or with k, m, g; -1 for unlimited swap); with -m alone, twice the memory, as docker\'s' -r
complete -c cairn-create -l pids-limit -d 'Largest number of processes and threads (default 2048, as podman; -1 for no limit)' -r
complete -c cairn-create -l cpus -d 'CPU quota in CPUs (e.g. 0.5)' -r
complete -c cairn-create -l log-opt -d 'Bounds of its log, at every start: `max-size=SIZE` per file (default 20m) and `max-file=N` files kept (default 5), as docker\'s local driver' -r
complete -c cairn-create -l network -l net -d 'The network `start` runs it on (default bridge): as `run --network`' -r
complete -c cairn-create -s p -l publish -d 'Publish a container\'s port at each start, as `run -p` (on a bridge network); without HOSTPORT, on a free port chosen at each start' -r
complete -c cairn-create -l network-alias -d 'Another name the other containers of its user network find it by (in their /etc/hosts); may be repeated' -r
complete -c cairn-create -l format -d 'Output format (table: docker\'s bare ID; id: the bare ID anywhere)' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-create -l read-only -d 'Make the root file system read-only (volumes and tmpfs stay writable)'
complete -c cairn-create -l init -d 'Run a minimal init as pid 1 (cairn-init, as docker\'s docker-init) that passes signals on to the command, reaps orphaned processes and exits with the command\'s status'
complete -c cairn-create -s i -l interactive -d 'Keep stdin open (every start; `start -ai` attaches to it)'
complete -c cairn-create -s t -l tty -d 'Give the process a terminal (a new pty, at every start)'
complete -c cairn-create -l privileged -d 'Give the process every capability and no masked paths, at every start'
complete -c cairn-create -l rm -d 'Remove it and its anonymous volumes when its process exits (after `cairn start`; not with --restart)'
complete -c cairn-create -s P -l publish-all -d 'Publish every port the image EXPOSEs on a free host port at each start'
complete -c cairn-create -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-create -s V -l version -d 'Print version'
