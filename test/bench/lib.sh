# Helpers shared by the bench_*.sh scripts (sourced; see test/bench/run.sh
# for the BENCH line protocol).

# field NAME JSON: the number NAME holds in a one-line JSON object.
field() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p"; }

# stats [DECIMALS]: median and spread (% of the median) of the numbers on
# stdin, the median with DECIMALS (2) decimals.
stats() {
    sort -n | awk -v d="${1:-2}" '{v[NR]=$1} END {m=v[int((NR+1)/2)];
        s=(m>0)?(v[NR]-v[1])*100/m:0; printf "%.*f %.1f\n", d, m, s}'
}

# bench_line NAME UNIT OURS SPREAD PEER_NAME PEER_VALUE GOAL GOAL_MET: one
# BENCH line; the ratio is OURS / PEER_VALUE (null without a peer).
bench_line() {
    if [ -n "$5" ]; then
        ratio=$(awk -v a="$3" -v b="$6" 'BEGIN {printf "%.2f", (b>0)?a/b:0}')
        peer="{\"name\":\"$5\",\"value\":$6}"
    else
        ratio=null
        peer=null
    fi
    printf 'BENCH {"name":"%s","unit":"%s","ours":%s,"spread":%s,"peer":%s,"ratio":%s,"goal":"%s","goal_met":%s}\n' \
        "$1" "$2" "$3" "$4" "$peer" "$ratio" "$7" "$8"
}
