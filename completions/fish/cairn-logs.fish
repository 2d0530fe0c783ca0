complete -c cairn-logs -l root -d 'The store (default: $CAIRN_ROOT, else /var/lib/cairn for root, else ${XDG_DATA_HOME:-~/.local/share}/cairn)' -r -F
complete -c cairn-logs -s n -l tail -d 'Only the last N lines of both streams together (`all`: everything)' -r
complete -c cairn-logs -l since -d 'Only lines written since TIME: a date and time (`2026-12-02T10:00:00`, local time (TZ) unless a zone follows: `Z`, `+01:00`), a date (`2026-12-02`: its midnight), Unix seconds or a duration ago (`10m`)' -r
complete -c cairn-logs -l until -d 'Only lines written before TIME (as --since)' -r
complete -c cairn-logs -s f -l follow -d 'Follow: keep printing what comes until the container stops (or --until\'s time comes)'
complete -c cairn-logs -s t -l timestamps -d 'Each line after the time it was written (RFC 3339, UTC, ns)'
complete -c cairn-logs -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cairn-logs -s V -l version -d 'Print version'
