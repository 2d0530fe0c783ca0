complete -c cairn-build -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-build -s f -l file -d 'The Dockerfile (default: CONTEXT/Dockerfile)' -r -F
complete -c cairn-build -s t -l tag -d 'Name the result (NAME[:TAG]); may be repeated' -r
complete -c cairn-build -l build-arg -d 'Set a build-time variable (ARG)' -r
complete -c cairn-build -l network -d 'The network of RUN steps: `default` (the default bridge cairn0, as docker build\'s), `none`, `host` or a network\'s name' -r
complete -c cairn-build -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-build -l no-cache -d 'Do not reuse layers from earlier builds'
complete -c cairn-build -s q -l quiet -d 'Print only the final record, no step lines'
complete -c cairn-build -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-build -s V -l version -d 'Print version'
