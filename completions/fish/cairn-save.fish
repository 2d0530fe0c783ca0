complete -c cairn-save -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-save -s o -l output -d 'Write to FILE instead of stdout' -r -F
complete -c cairn-save -l tag -d 'Name for an untagged image (NAME[:TAG])' -r
complete -c cairn-save -l compress -d 'Layer compression (Docker before 23.0, e.g. Debian\'s docker.io 20.10, cannot load zstd layers: use gzip or none for it)' -r -f -a "none\t''
gzip\t''
zstd\t''"
complete -c cairn-save -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-save -s V -l version -d 'Print version'
