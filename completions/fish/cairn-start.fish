complete -c cairn-start -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-start -s a -l attach -d 'Attach: run in the foreground, passing output and exit status'
complete -c cairn-start -s i -l interactive -d 'Keep stdin open (with -a)'
complete -c cairn-start -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-start -s V -l version -d 'Print version'
