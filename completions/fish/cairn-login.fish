complete -c cairn-login -s u -l username -d 'The user name (asked for on a terminal when absent)' -r
complete -c cairn-login -s p -l password -d 'The password (visible to other users in `ps`: prefer --password-stdin)' -r
complete -c cairn-login -l tls-verify -d 'Verify the registry\'s TLS certificate; false also allows plain http' -r -f -a "true\t''
false\t''"
complete -c cairn-login -l cert-dir -d 'The registry\'s CA certificates (*.crt) and client pair (*.cert, *.key), in place of /etc/docker/certs.d/HOST:PORT' -r -F
complete -c cairn-login -l password-stdin -d 'Read the password from stdin (its first line)'
complete -c cairn-login -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-login -s V -l version -d 'Print version'
