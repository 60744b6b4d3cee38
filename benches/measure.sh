#!/usr/bin/env bash
# Every measurement the README's Performance section reports, in one go.
#
#   benches/measure.sh            # about 5–8 minutes on the 2-core VM, after the build
#   MEASURE_LOGS=dir benches/measure.sh   # keep the raw outputs in dir
#
# Builds the release binary and the benches, then runs, one after another:
# the engine bench (a subset, shortened), the store bench (group commit),
# the load generator at full speed (on the embedded store, then on Redis),
# at a fixed 2,000 msg/s, and on the 1M-user data set. Each run's full output is kept under $MEASURE_LOGS
# (default: a temp dir, printed); a summary table comes last, with the
# target and whether it was met. Run it on a quiet machine: anything else
# using the CPU moves every number except CPU time per message, and even
# that a little.
#
# Exit status: 0 if every run completed (met or missed), 1 if one failed
# (a loadgen run that loses, duplicates or misroutes a message fails).

set -uo pipefail
cd "$(dirname "$0")/.."

LOGS=${MEASURE_LOGS:-$(mktemp -d -t randchat-measure.XXXXXX)}
mkdir -p "$LOGS"
failed=0

step() { printf '\n### %s\n' "$*" >&2; }

run() { # run NAME COMMAND... : output to $LOGS/NAME.log (and the terminal)
    local name=$1
    shift
    step "$name: $*"
    local started=$SECONDS
    if ! "$@" 2>&1 | tee "$LOGS/$name.log"; then
        echo "measure.sh: $name FAILED (see $LOGS/$name.log)" >&2
        failed=1
    fi
    echo "$name took $((SECONDS - started))s" >&2
}

step "building (release binary and benches)"
cargo build --release --bins || exit 1
cargo bench --no-run --bench engine --bench store --bench loadgen || exit 1

run engine cargo bench --bench engine -- --warm-up-time 1 --measurement-time 3 \
    'pair_unpair/cycle|next_churn/ops|relay/message|mixed/threads/1|filtered/match|filtered/cycle'
run store cargo bench --bench store -- --seconds 5
run loadgen cargo bench --bench loadgen
run loadgen_redis cargo bench --bench loadgen -- --store redis
run loadgen_rate cargo bench --bench loadgen -- --rate 2000
run loadgen_dataset cargo bench --bench loadgen -- --dataset

# ---- summary -------------------------------------------------------------

# The middle of criterion's "thrpt: [low mid high]" after the named bench.
engine_rate() {
    awk -v name="$1" '
        index($0, name) == 1 { found = 1 }
        found && /thrpt:/ { gsub(/[\[\]]/, ""); print $4, $5; exit }
    ' "$LOGS/engine.log"
}
# The value column of a loadgen line, without the [met/MISSED] verdict.
loadgen_value() {
    local file=$LOGS/$1.log label=$2
    grep -F "$label" "$file" 2>/dev/null | head -1 | cut -c51- | sed -e 's/^ *//'
}
# A line's verdict: met / MISSED / (blank).
verdict() {
    case "$1" in
        *"[met"*) echo "met" ;;
        *"MISSED"*) echo "MISSED" ;;
        *) echo "" ;;
    esac
}
# store_line STORE PATTERN: the first line starting with PATTERN in the
# section of the store bench's output for STORE (embedded or redis).
store_line() {
    awk -v want="$1" -v pat="^$2" '
        /^== embedded store/ { in_store = "embedded" }
        /^== Redis store/ { in_store = "redis" }
        in_store == want && $0 ~ pat { print; exit }
    ' "$LOGS/store.log" 2>/dev/null
}

row() { printf '| %-44s | %-22s | %-52s |\n' "$1" "$2" "$3"; }

{
    echo
    echo "== randchat performance summary =="
    grep -h '^machine:' "$LOGS"/loadgen.log 2>/dev/null | head -1
    echo "git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (dirty)'); logs in $LOGS"
    echo
    row "What" "Target" "Measured"
    row "--------------------------------------------" "----------------------" "----------------------------------------------------"
    row "Engine pair+unpair cycles, 1 thread" "≥ 2,000,000/s" "$(engine_rate pair_unpair/cycle)"
    row "Engine /next churn (calls)" "—" "$(engine_rate next_churn/ops)"
    row "Engine relay (messages)" "—" "$(engine_rate relay/message)"
    row "Engine mixed, 1 thread (calls)" "—" "$(engine_rate mixed/threads/1)"
    row "Engine matches, 8 filter buckets, 1 thread" "≥ 1,000,000/s" "$(engine_rate filtered/match)"
    row "Engine match+/stop+requeue, 8 buckets" "—" "$(engine_rate filtered/cycle)"
    for store in embedded redis; do
        tp=$(store_line $store 'throughput:')
        row "Store ($store): durable state changes/s" "≥ 100,000/s" "$(sed -e 's/throughput: //' -e 's/ durable.*//' <<<"$tp") $(verdict "$tp")"
        paced=$(store_line $store 'paced at')
        row "Store ($store): commit wait p99 at 10,000/s" "≤ 5 ms" "$(grep -oE 'p99 [0-9.]+ ms' <<<"$paced") $(verdict "$paced")"
    done
    l=$(grep -F 'relayed messages/s' "$LOGS/loadgen.log" 2>/dev/null | head -1)
    row "Loadgen: relayed messages/s, 10,000 users" "≥ 20,000/s" "$(loadgen_value loadgen 'relayed messages/s' | sed 's/ *\[.*//') $(verdict "$l")"
    l=$(grep -F 'bot CPU per relayed message' "$LOGS/loadgen.log" 2>/dev/null | head -1)
    row "Loadgen: bot CPU per relayed message" "≤ 50 µs" "$(loadgen_value loadgen 'bot CPU per relayed message' | sed 's/ (.*//') $(verdict "$l")"
    l=$(grep -F 'ceiling (bare copyMessage loop)' "$LOGS/loadgen.log" 2>/dev/null | head -1)
    row "Loadgen: share of the fake's ceiling" "≥ 70%" "$(grep -oE 'reached [0-9]+%' <<<"$l") of $(grep -oE '^[0-9]+/s' <<<"$(loadgen_value loadgen 'ceiling (bare')") $(verdict "$l")"
    row "Loadgen: bot CPU budget at 70% of the ceiling" "—" "$(loadgen_value loadgen 'CPU budget for the bot' | sed 's/ (.*); it used/; it used/')"
    row "Loadgen: load generator + fake CPU" "—" "$(loadgen_value loadgen 'load generator + fake CPU')"
    l=$(grep -F 'messages followed' "$LOGS/loadgen.log" 2>/dev/null | head -1)
    row "Loadgen: followed / lost / dup / misrouted" "x / 0 / 0 / 0" "$(loadgen_value loadgen 'messages followed' | sed 's/ *\[.*//') $(verdict "$l")"
    row "Loadgen: bot peak RSS, 10,000 users" "—" "$(loadgen_value loadgen 'bot peak RSS')"
    l=$(grep -F 'relayed messages/s' "$LOGS/loadgen_redis.log" 2>/dev/null | head -1)
    row "Loadgen on Redis: relayed messages/s" "—" "$(loadgen_value loadgen_redis 'relayed messages/s' | sed 's/ *\[.*//')"
    row "Loadgen on Redis: bot CPU per message" "—" "$(loadgen_value loadgen_redis 'bot CPU per relayed message' | sed 's/ (.*//') (redis-server's own CPU not counted)"
    l=$(grep -F 'messages followed' "$LOGS/loadgen_redis.log" 2>/dev/null | head -1)
    row "Loadgen on Redis: followed / lost / dup / misrouted" "x / 0 / 0 / 0" "$(loadgen_value loadgen_redis 'messages followed' | sed 's/ *\[.*//') $(verdict "$l")"
    l=$(grep -F 'added latency p50 / p99 (from injection)' "$LOGS/loadgen_rate.log" 2>/dev/null | head -1)
    row "Latency p50 / p99 at 2,000 msg/s" "p99 ≤ 5 ms" "$(loadgen_value loadgen_rate 'added latency p50 / p99 (from injection)' | sed 's/ (max.*//') $(verdict "$l")"
    row "  (bot CPU per message at 2,000 msg/s)" "—" "$(loadgen_value loadgen_rate 'bot CPU per relayed message' | sed 's/ (.*//')"
    l=$(grep -F 'start-up (process start' "$LOGS/loadgen_dataset.log" 2>/dev/null | head -1)
    row "1M users, 100k chats: start-up" "≤ 1 s" "$(loadgen_value loadgen_dataset 'start-up (process start' | sed 's/ *\[.*//') $(verdict "$l")"
    l=$(grep -F 'RSS, idle after start-up' "$LOGS/loadgen_dataset.log" 2>/dev/null | head -1)
    row "1M users, 100k chats: RSS idle" "≤ 100 MB" "$(loadgen_value loadgen_dataset 'RSS, idle after start-up' | sed 's/ *\[.*//') $(verdict "$l")"
    l=$(grep -F 'RSS after' "$LOGS/loadgen_dataset.log" 2>/dev/null | head -1)
    row "1M users, 100k chats: RSS under traffic" "≤ 100 MB" "$(loadgen_value loadgen_dataset 'RSS after' | sed 's/ *\[.*//') $(verdict "$l")"
    echo
    [ "$failed" = 0 ] || echo "one or more runs FAILED; see the logs above"
} | tee "$LOGS/summary.txt"

exit "$failed"
