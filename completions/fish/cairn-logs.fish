complete -c cairn-logs -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-logs -s n -l tail -d 'Only the last N lines (`all`: everything)' -r
complete -c cairn-logs -s f -l follow -d 'Follow: keep printing what comes until the container stops'
complete -c cairn-logs -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-logs -s V -l version -d 'Print version'
