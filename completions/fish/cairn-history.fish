complete -c cairn-history -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-history -s H -l human -d 'Print sizes and dates in human-readable form' -r -f -a "true\t''
false\t''"
complete -c cairn-history -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-history -l no-trunc -d 'Do not truncate IDs and CREATED BY'
complete -c cairn-history -s q -l quiet -d 'Only IDs, 12 digits as docker\'s (whole with --no-trunc)'
complete -c cairn-history -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-history -s V -l version -d 'Print version'
