complete -c cairn-import -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-import -s m -l message -d 'History comment (default: `Imported from FILE`)' -r
complete -c cairn-import -s c -l change -d 'Apply a Dockerfile instruction to the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL' -r
complete -c cairn-import -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-import -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-import -s V -l version -d 'Print version'
