complete -c cairn-images -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-images -s f -l filter -d 'Only those that match (dangling=, reference=, label=, before=, since=)' -r
complete -c cairn-images -l format -d 'Output format: json, table, id, a Go template, or dot (Graphviz, with --tree)' -r -f -a "json\t''
table\t''
id\t''
dot\t''"
complete -c cairn-images -s a -l all -d 'Every layer, not only tagged images'
complete -c cairn-images -s q -l quiet -d 'Only IDs, 12 digits as docker\'s (whole with --no-trunc)'
complete -c cairn-images -l no-trunc -d 'Do not truncate IDs'
complete -c cairn-images -l tree -d 'Draw the store as the model pictures it'
complete -c cairn-images -l digests -d 'Show the digest of the registry manifest each image came with'
complete -c cairn-images -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-images -s V -l version -d 'Print version'
