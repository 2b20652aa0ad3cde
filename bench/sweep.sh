#!/usr/bin/env bash
# Runs conflux-bench over a matrix of cluster sizes x client counts x payloads, appending
# one JSON object per run to a JSON-lines file, which bench/plot.py draws.
#
#   bench/sweep.sh [OUT.jsonl] [extra conflux-bench flags...]
#
# The matrix and the run length come from the environment (defaults below):
#   BENCH        the conflux-bench binary     (build/release/bench/conflux-bench)
#   MODE         inprocess | tcp | websocket | embedded  (tcp)
#   NODES        cluster sizes                ("1 3 5 7")
#   CONCURRENCY  clients per run              ("1 4 16 64 256")
#   PAYLOAD      bytes per action, one or more (256)
#   DURATION     measured seconds per run     (5)
#   WARMUP       warm-up seconds per run      (1)
#   LABEL        stored with every run        (sweep-<UTC time>)
#
# Example, a quick one (about 20 s):
#   DURATION=0.5 WARMUP=0.2 NODES="1 3" CONCURRENCY="1 16" bench/sweep.sh /tmp/quick.jsonl
#   python3 bench/plot.py /tmp/quick.jsonl /tmp/plots
# and payloads from 16 B to 64 KiB, drawn against the payload:
#   NODES=3 CONCURRENCY=32 PAYLOAD="16 256 4096 65536" bench/sweep.sh /tmp/payload.jsonl
#   python3 bench/plot.py /tmp/payload.jsonl /tmp/plots --x payload
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-sweep.jsonl}"
shift || true

bench="${BENCH:-$root/build/release/bench/conflux-bench}"
mode="${MODE:-tcp}"
nodes="${NODES:-1 3 5 7}"
concurrency="${CONCURRENCY:-1 4 16 64 256}"
payload="${PAYLOAD:-256}"
duration="${DURATION:-5}"
warmup="${WARMUP:-1}"
label="${LABEL:-sweep-$(date -u +%Y%m%dT%H%M%SZ)}"

if [[ ! -x "$bench" ]]; then
  echo "sweep.sh: $bench is not built (cmake --build --preset release --target conflux-bench)," \
       "or set BENCH" >&2
  exit 2
fi

failed=0
runs=0
for n in $nodes; do
  for c in $concurrency; do
    for p in $payload; do
      runs=$((runs + 1))
      echo "== $mode, $n node(s), $c client(s), payload $p B, ${duration} s" >&2
      # A failed run is reported and skipped: the rest of the matrix still runs.
      if ! "$bench" --mode "$mode" --nodes "$n" --concurrency "$c" --payload "$p" \
           --duration "$duration" --warmup "$warmup" --label "$label" \
           --json-append "$out" "$@"; then
        echo "sweep.sh: the run with $n node(s), $c client(s) and $p B failed" >&2
        failed=$((failed + 1))
      fi
    done
  done
done

echo "sweep.sh: $((runs - failed)) of $runs runs appended to $out (label $label)" >&2
[[ $failed -eq 0 ]]
