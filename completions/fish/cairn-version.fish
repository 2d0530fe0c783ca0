complete -c cairn-version -s f -l format -d 'Output format: json, table (docker\'s text), or a Go template' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-version -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-version -s V -l version -d 'Print version'
