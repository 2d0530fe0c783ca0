complete -c cairn-exec -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-exec -s e -l env -d 'Set an environment variable (K=V; a bare K takes this shell\'s value, or removes K when it has none)' -r
complete -c cairn-exec -l env-file -d 'Read environment variables from a file: a K=V (or bare K) a line, `#` comments; -e wins' -r -F
complete -c cairn-exec -s w -l workdir -d 'Working directory inside the container' -r
complete -c cairn-exec -s u -l user -d 'User (name or uid) and group: USER[:GROUP]' -r
complete -c cairn-exec -s i -l interactive -d 'Keep stdin open (it is passed through in the foreground)'
complete -c cairn-exec -s t -l tty -d 'Give the process a terminal (a new pty)'
complete -c cairn-exec -l privileged -d 'Give the process every capability and no masked paths'
complete -c cairn-exec -s d -l detach -d 'Leave the process running in the background (its output is dropped) and return at once'
complete -c cairn-exec -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-exec -s V -l version -d 'Print version'
