complete -c cairn-start -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-start -l detach-keys -d 'With -a: the keys that detach and leave the container running (`ctrl-X` or one character each, separated by commas; default ctrl-p,ctrl-q)' -r
complete -c cairn-start -l format -d 'Output format (default: the names on a terminal, records piped)' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-start -s a -l attach -d 'Attach: run in the foreground, passing output and exit status'
complete -c cairn-start -s i -l interactive -d 'Attach stdin (with -a)'
complete -c cairn-start -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-start -s V -l version -d 'Print version'
