# Means over the rounds of two contenders and their ratios. Input: two files with one "req/s cpu-µs-per-request"
# line per round (the first contender's file first). Variables: first, second (their names in the output).
#   awk -v first=portico -v second=haproxy -f bench/compare.awk rps.portico rps.haproxy
FNR == 1 { file++ }
file == 1 { a += $1; ac += $2; an++ }
file == 2 { b += $1; bc += $2; bn++ }
END {
    if (!an || !bn || b <= 0) exit
    printf "mean over %d round(s): %s %.0f req/s, %s %.0f req/s, ratio %s/%s: %.2fx\n", an, first, a / an, second, b / bn, first, second, (a / an) / (b / bn)
    if (ac > 0 && bc > 0) {
        printf "CPU per request: %s %.1f µs, %s %.1f µs, ratio %.2fx\n", first, ac / an, second, bc / bn, (ac / an) / (bc / bn)
    }
}
