complete -c cairn-unshare -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-unshare -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-unshare -s V -l version -d 'Print version'
