#!/bin/sh
# Print a TCP port on 127.0.0.1 that no socket uses (tests pick ports per
# run so that parallel runs and other services do not collide).
#
# Below the kernel's ephemeral range when there is room: a port picked
# among ephemeral ones can be taken by some process's outgoing connection
# between this check and the server's bind (seen as "Address already in
# use" when the gateway of the browser tests started).
set -eu
lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
if [ "$lo" -gt 12000 ]; then
    base=10000 span=$((lo - 10000))
else
    base=20000 span=40000
fi
while :; do
    p=$(( base + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % span ))
    if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; exit 0; fi
done
