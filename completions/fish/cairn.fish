complete -c cairn -l root -d 'The store every command uses (sets $CAIRN_ROOT for it)' -r -F
complete -c cairn -l list -d 'List the commands found'
complete -c cairn -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn -s V -l version -d 'Print version'
