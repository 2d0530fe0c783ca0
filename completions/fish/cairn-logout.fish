complete -c cairn-logout -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-logout -s V -l version -d 'Print version'
