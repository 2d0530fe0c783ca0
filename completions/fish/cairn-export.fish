complete -c cairn-export -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-export -s o -l output -d 'Write to FILE instead of stdout' -r -F
complete -c cairn-export -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-export -s V -l version -d 'Print version'
