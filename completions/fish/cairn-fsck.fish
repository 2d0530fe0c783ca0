complete -c cairn-fsck -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-fsck -l format -d 'Output format: `KIND ID: PROBLEM` lines, or a finding record per damaged object' -r -f -a "text\t'`KIND ID: PROBLEM`, a line per damaged object'
json\t'One finding record per damaged object'"
complete -c cairn-fsck -l repair -d 'Move broken objects aside and drop what depends on them'
complete -c cairn-fsck -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-fsck -s V -l version -d 'Print version'
