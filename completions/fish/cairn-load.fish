complete -c cairn-load -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-load -s i -l input -d 'The same, as docker load takes it' -r
complete -c cairn-load -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-load -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-load -s V -l version -d 'Print version'
