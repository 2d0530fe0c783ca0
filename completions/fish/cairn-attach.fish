complete -c cairn-attach -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-attach -l detach-keys -d 'The keys that detach and leave the container running: `ctrl-X` or one character each, separated by commas' -r
complete -c cairn-attach -l sig-proxy -d 'Pass the signals attach takes on to the container\'s main process' -r -f -a "true\t''
false\t''"
complete -c cairn-attach -l no-stdin -d 'Do not attach stdin'
complete -c cairn-attach -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-attach -s V -l version -d 'Print version'
