complete -c cairn-inspect -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-inspect -l type -d 'Only look for this kind of object' -r -f -a "container\t''
image\t''"
complete -c cairn-inspect -s f -l template -d 'Print this Go template for each, as docker inspect -f, over docker\'s document: \'{{.State.Pid}}\', \'{{json .Config.Env}}\', \'{{index .Config.Labels "k"}}\', \'{{.RestartCount}}\'' -r
complete -c cairn-inspect -l format -d 'Output format (json: one document per line; table: docker\'s JSON array, as on a terminal), or a Go template as -f' -r -f -a "json\t''
table\t''
id\t''"
complete -c cairn-inspect -s s -l size -d 'Add a container\'s sizes to docker\'s document (SizeRw, SizeRootFs)'
complete -c cairn-inspect -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-inspect -s V -l version -d 'Print version'
