complete -c cairn-cp -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-cp -s a -l archive -d 'Give what is copied in to the container\'s USER (when it has one)'
complete -c cairn-cp -s L -l follow-link -d 'Follow a symlink given as SRC (copy what it leads to)'
complete -c cairn-cp -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-cp -s V -l version -d 'Print version'
