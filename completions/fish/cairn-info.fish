complete -c cairn-info -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-info -s f -l format -d 'Output format: json, table (docker\'s text), or a Go template' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-info -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-info -s V -l version -d 'Print version'
