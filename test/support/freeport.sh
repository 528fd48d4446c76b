#!/bin/sh
# Print a TCP port on 127.0.0.1 that nothing listens on (tests pick ports per
# run so that parallel runs and other services do not collide).
set -eu
while :; do
    p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; exit 0; fi
done
