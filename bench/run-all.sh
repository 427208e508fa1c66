#!/usr/bin/env bash
# Re-measures every row of the issue-7 tables in bench/RESULTS.md, on this machine, now:
#   bench/limits  Sluice vs the bare pipeline (produce and consume, 100 B) and vs dd (produce, 1 KiB)
#   bench/peers   Sluice vs Redis Streams vs NATS JetStream (produce, consume, e2e at 10,000/s)
#   bench/modes   the Kafka front door (kcat) vs WebSocket; acks=all with fsync before every ack
# Every script starts its own servers on 127.0.0.1 and runs each side RUNS times (default 3),
# side by side in the same run; the tables print medians. Tables, JSON and HTML reports go to OUT.
#
#   bash bench/run-all.sh            RUNS=5 OUT=/tmp/results bash bench/run-all.sh
#
# Needs: redis-server, redis-benchmark, nats-server and kcat on PATH
# (Debian: apt-get install -y redis-server nats-server kcat). Measure on a quiet machine: the
# broker and the load generators share its cores.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
for tool in redis-server redis-benchmark nats-server kcat dd; do
  command -v "$tool" >/dev/null || { echo "bench/run-all.sh: $tool is missing (apt-get install -y redis-server nats-server kcat)" >&2; exit 1; }
done
run() { node --import tsx "$@"; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), RUNS=$RUNS" | tee "$OUT/summary.md"
run bench/limits/compare.ts --runs "$RUNS" --out "$OUT/limits.json" --report "$OUT/limits.html" | tee -a "$OUT/summary.md"
run bench/peers/compare.ts --runs "$RUNS" --out "$OUT/peers.json" --report "$OUT/peers.html" | tee -a "$OUT/summary.md"
run bench/modes/compare.ts --runs "$RUNS" --out "$OUT/modes.json" | tee -a "$OUT/summary.md"
echo "tables: $OUT/summary.md; reports: $OUT/limits.html $OUT/peers.html" >&2
