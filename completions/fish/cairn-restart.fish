complete -c cairn-restart -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-restart -s t -l time -d 'Seconds to wait before SIGKILL' -r
complete -c cairn-restart -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-restart -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-restart -s V -l version -d 'Print version'
