complete -c cairn-push -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-push -l compress -d 'Layer compression [default: as pulled, else gzip]' -r -f -a "none\t''
gzip\t''
zstd\t''"
complete -c cairn-push -l manifest-format -d 'The manifest put: OCI image manifest, or docker schema2 [default: as pulled, else oci]' -r -f -a "oci\t''
docker\t''"
complete -c cairn-push -l chunk-size -d 'Blobs larger than this many bytes go up in PATCH chunks of this size; 0 sends each blob in one PUT' -r
complete -c cairn-push -l tls-verify -d 'Verify the registry\'s TLS certificate; false also allows plain http' -r -f -a "true\t''
false\t''"
complete -c cairn-push -l cert-dir -d 'The registry\'s CA certificates (*.crt) and client pair (*.cert, *.key), in place of /etc/docker/certs.d/HOST:PORT' -r -F
complete -c cairn-push -l format -d 'Output format' -r -f -a "json\t'One JSON record per line'
table\t'Aligned columns for people'
id\t'The bare ID of each record, one per line'"
complete -c cairn-push -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-push -s V -l version -d 'Print version'
