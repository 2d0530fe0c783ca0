complete -c cairn-inspect -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-inspect -l type -d 'Only look for this kind of object' -r -f -a "container\t''
image\t''"
complete -c cairn-inspect -s f -l template -d 'Print this Go template for each, as docker inspect -f: \'{{.State.Pid}}\', \'{{json .Config.Env}}\', \'{{index .Config.Labels "k"}}\' (docker\'s names read cairn\'s fields)' -r
complete -c cairn-inspect -l format -d 'Output format (json: one record per line; table: indented JSON), or a Go template as -f' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-inspect -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-inspect -s V -l version -d 'Print version'
