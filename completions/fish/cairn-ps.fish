complete -c cairn-ps -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-ps -s f -l filter -d 'Only those that match (status=, label=, name=, id=, ancestor=, before=, since=, exited=, network=, volume=)' -r
complete -c cairn-ps -l format -d 'Output format: json, table, id, or a Go template' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-ps -s a -l all -d 'All containers, not only running ones'
complete -c cairn-ps -s q -l quiet -d 'Only IDs, 12 digits as docker\'s (whole with --no-trunc)'
complete -c cairn-ps -l no-trunc -d 'Do not truncate IDs and commands'
complete -c cairn-ps -s s -l size -d 'Show each container\'s size: its read-write layer, and in all'
complete -c cairn-ps -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-ps -s V -l version -d 'Print version'
