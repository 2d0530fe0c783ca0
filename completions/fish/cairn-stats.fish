complete -c cairn-stats -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-stats -l format -d 'Output format: json, table, or a Go template over docker\'s fields (Container, ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs)' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-stats -s a -l all -d 'Every container, not only running ones'
complete -c cairn-stats -l no-stream -d 'One round, then exit'
complete -c cairn-stats -l no-trunc -d 'Do not truncate IDs'
complete -c cairn-stats -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-stats -s V -l version -d 'Print version'
