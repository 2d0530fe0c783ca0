complete -c cairn-pull -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-pull -l platform -d 'The platform to choose from a multi-platform image (default: this machine\'s)' -r
complete -c cairn-pull -l tls-verify -d 'Verify the registry\'s TLS certificate; false also allows plain http' -r -f -a "true\t''
false\t''"
complete -c cairn-pull -l cert-dir -d 'The registry\'s CA certificates (*.crt) and client pair (*.cert, *.key), in place of /etc/docker/certs.d/HOST:PORT' -r -F
complete -c cairn-pull -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-pull -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-pull -s V -l version -d 'Print version'
