complete -c cairn-rm -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-rm -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-rm -s f -l force -d 'Kill a running container first'
complete -c cairn-rm -s v -l volumes -d 'Also remove the container\'s anonymous volumes'
complete -c cairn-rm -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-rm -s V -l version -d 'Print version'
