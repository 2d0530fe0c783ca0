complete -c cairn-layer-unpack -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-layer-unpack -l parent -d 'The layer this one stacks on (ID, unique prefix or tag)' -r
complete -c cairn-layer-unpack -l diff-id -d 'Refuse unless the uncompressed stream has this digest' -r
complete -c cairn-layer-unpack -l created-by -d 'History: what made the layer' -r
complete -c cairn-layer-unpack -s m -l comment -d 'History: a comment' -r
complete -c cairn-layer-unpack -l created -d 'History: when (RFC 3339)' -r
complete -c cairn-layer-unpack -l author -d 'History: who' -r
complete -c cairn-layer-unpack -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-layer-unpack -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-layer-unpack -s V -l version -d 'Print version'
