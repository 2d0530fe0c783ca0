complete -c cairn-commit -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-commit -s m -l message -d 'Commit message (history comment)' -r
complete -c cairn-commit -s a -l author -d 'Author' -r
complete -c cairn-commit -s c -l change -d 'Apply a Dockerfile instruction to the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL' -r
complete -c cairn-commit -s p -l pause -d 'Freeze a running container while its layer is read (`-p` alone or `--pause=true`; `--pause=false` reads it unfrozen)' -r -f -a "true\t''
false\t''"
complete -c cairn-commit -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-commit -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-commit -s V -l version -d 'Print version'
