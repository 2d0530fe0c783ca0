complete -c cairn-create -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-create -l name -d 'Name the container' -r
complete -c cairn-create -l entrypoint -d 'Replace the image\'s entrypoint' -r
complete -c cairn-create -s e -l env -d 'Set an environment variable (K=V; a bare K removes it)' -r
complete -c cairn-create -s w -l workdir -d 'Working directory inside the container' -r
complete -c cairn-create -s u -l user -d 'User (name or uid) and group: USER[:GROUP]' -r
complete -c cairn-create -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-create -s V -l version -d 'Print version'
