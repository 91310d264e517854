#!/bin/bash
# One interleaved run: single node (--memory) vs a cluster of 3 nodes on one redis-server, all Bun.
cd "$(dirname "$0")/.."
B=node_modules/.bin/bun
OUT=${OUT:-/tmp/tcpchat-bench-cluster}; mkdir -p $OUT
redis-server --port 6390 --bind 127.0.0.1 --save "" --appendonly no >/tmp/tcpchat-bench-cluster-redis.log 2>&1 &
REDIS=$!
sleep 1
$B main.ts serve --host 127.0.0.1 --port 7100 --memory --rate-per-s 0 --default-room "" --log-level warning >/tmp/tcpchat-bench-cluster-single.log 2>&1 &
SINGLE=$!
for i in 1 2 3; do
  $B main.ts serve --host 127.0.0.1 --port 710$i --cluster redis://127.0.0.1:6390 --rate-per-s 0 --default-room "" --log-level warning >/tmp/tcpchat-bench-cluster-node$i.log 2>&1 &
  eval NODE$i=$!
done
sleep 4
run() { name=$1; shift; echo "== $name: $*" >&2; $B main.ts bench "$@" --warmup 1 --duration 5 --json -q > $OUT/$name.json 2>$OUT/$name.err; }
# Scenario A: 1 publisher x 100 subscribers, as fast as the window allows
run A_single 127.0.0.1:7100 --pid $SINGLE --subs 100
run A_c1 127.0.0.1:7101 --pid $NODE1 --subs 100
run A_c2 127.0.0.1:7101 --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7101,127.0.0.1:7102
run A_c3 127.0.0.1:7101 --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
# B-style: latency at 1000 msgs/s, 1 publisher x 100 subscribers
run B_single 127.0.0.1:7100 -s latency --pid $SINGLE --subs 100
run B_c2 127.0.0.1:7101 -s latency --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7101,127.0.0.1:7102
# What one Redis sustains: 20 rooms x 1 publisher x 1 subscriber (messages, little fan-out), Redis's CPU read with --pid
run R_c1 127.0.0.1:7101 --pid $REDIS --rooms 20 --pubs 1 --subs 1
run R_c2 127.0.0.1:7101 --pid $REDIS --rooms 20 --pubs 1 --subs 1 --sub-addrs 127.0.0.1:7102
run R_single 127.0.0.1:7100 --pid $SINGLE --rooms 20 --pubs 1 --subs 1
# second pass of A for the ratio's spread
run A_single2 127.0.0.1:7100 --pid $SINGLE --subs 100
run A_c2b 127.0.0.1:7101 --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7101,127.0.0.1:7102
kill $SINGLE $NODE1 $NODE2 $NODE3
sleep 1
kill $REDIS
echo done >&2
