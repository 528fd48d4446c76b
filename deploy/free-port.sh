#!/bin/sh
# deploy/free-port.sh [N] — print a TCP port P such that P … P+N-1 (N default 1) are used
# by no socket at all on this machine, chosen at random below the kernel's ephemeral range
# when there is room.  Outgoing connections take ephemeral ports, and a port that any
# socket holds (listening or not) cannot be listened on, so a port that merely nothing
# listens on may still fail to bind on a busy machine.  Used by region-gen.sh and the
# PostgreSQL scripts; a caller should still retry when a bind fails (another process may
# take the port in between).
set -eu
n=${1:-1}
case "$n" in "" | *[!0-9]* | 0) echo "free-port: N must be a positive number" >&2; exit 2 ;; esac
lo=10000 hi=59999
eph=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || :)
case "$eph" in "" | *[!0-9]*) ;; *) [ "$eph" -gt $((lo + n + 1000)) ] && hi=$((eph - 1)) ;; esac
tries=0
while [ $tries -lt 50 ]; do
    tries=$((tries + 1))
    p=$((lo + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (hi - lo - n)))
    busy=$(ss -Htan 2>/dev/null | awk -v lo="$p" -v hi="$((p + n - 1))" '
        { k = split($4, a, ":"); port = a[k] + 0; if (port >= lo && port <= hi) b++ }
        END { print b + 0 }')
    [ "$busy" -eq 0 ] && { echo "$p"; exit 0; }
done
echo "free-port: no range of $n free ports found" >&2
exit 1
