#!/bin/bash
# A lighter A/B of issue 14's headline ratio: scenario A single node (--memory) vs a 2-node cluster
# (publisher on node 1, subscribers over nodes 1-2), interleaved, $PASSES times (default 3), all Bun.
# Besides deliveries/s it records load-independent figures per cluster case: Redis commands and
# bytes per message (INFO commandstats / stats deltas) and node CPU microseconds per delivery
# (utime+stime of both nodes from /proc). Writes $OUT/*.json and prints one summary line per case.
# LATENCY=1 adds scenario B (1000 msgs/s, p99) single vs cluster to each pass; NO_A=1 leaves A out.
cd "$(dirname "$0")/.."
B=node_modules/.bin/bun
OUT=${OUT:-/tmp/tcpchat-bench-cluster-pair}; mkdir -p $OUT
PASSES=${PASSES:-3}; PORT=${REDIS_PORT:-6391}
redis-server --port $PORT --bind 127.0.0.1 --save "" --appendonly no >$OUT/redis.log 2>&1 &
REDIS=$!
sleep 1
$B main.ts serve --host 127.0.0.1 --port 7200 --memory --rate-per-s 0 --default-room "" --log-level warning >$OUT/single.log 2>&1 &
SINGLE=$!
$B main.ts serve --host 127.0.0.1 --port 7201 --cluster redis://127.0.0.1:$PORT --rate-per-s 0 --default-room "" --log-level warning >$OUT/node1.log 2>&1 &
NODE1=$!
$B main.ts serve --host 127.0.0.1 --port 7202 --cluster redis://127.0.0.1:$PORT --rate-per-s 0 --default-room "" --log-level warning >$OUT/node2.log 2>&1 &
NODE2=$!
sleep 4
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
# Redis: commands (those run inside scripts too), bytes in, bytes out, CPU seconds, and the sum of every room's seq (messages stored), EVAL/EVALSHA calls
rstat() {
  local seqs=0 k
  for k in $(redis-cli -p $PORT --scan --pattern 'tc:{r:*}:meta'); do seqs=$((seqs + $(redis-cli -p $PORT hget "$k" seq))); done
  redis-cli -p $PORT info all | tr -d '\r' | awk -F'[:=,]' -v s=$seqs '/^total_commands_processed/{c=$2} /^cmdstat_eval(sha)?:/{v+=$3} /^total_net_input_bytes/{i=$2} /^total_net_output_bytes/{o=$2} /^used_cpu_(sys|user):/{u+=$2} END{printf "%d %d %d %.3f %d %d\n", c, i, o, u, s, v}'
}
run() {
  name=$1; shift
  read c0 i0 o0 u0 m0 v0 < <(rstat); t1=$(ticks $NODE1); t2=$(ticks $NODE2)
  $B main.ts bench "$@" --warmup 1 --duration 5 --json -q > $OUT/$name.json 2>$OUT/$name.err
  read c1 i1 o1 u1 m1 v1 < <(rstat); d1=$(( $(ticks $NODE1) - t1 )); d2=$(( $(ticks $NODE2) - t2 ))
  HZ=$(getconf CLK_TCK) NAME=$name C=$((c1-c0)) I=$((i1-i0)) O=$((o1-o0)) U=$(echo "$u1 - $u0" | bc) D1=$d1 D2=$d2 M=$((m1-m0)) V=$((v1-v0)) \
    $B -e '
    const j = JSON.parse(require("fs").readFileSync(process.env.OUT + "/" + process.env.NAME + ".json", "utf8"));
    const e = process.env, hz = Number(e.HZ);
    const m = +e.M, cpu1 = +e.D1 / hz, cpu2 = +e.D2 / hz;
    const line = { case: e.NAME, deliveries_per_s: Math.round(j.deliveries_per_s), p50_ms: +(j.latency.p50_us / 1000).toFixed(1), p99_ms: +(j.latency.p99_us / 1000).toFixed(1),
      node1_cores: j.server_cpu_cores, node1_us_per_delivery: +(1e6 * j.server_cpu_cores / j.deliveries_per_s).toFixed(3) };
    if (m > 0) Object.assign(line, { msgs_stored: m, redis_cmds_per_msg: +(+e.C / m).toFixed(3), evals_per_msg: +(+e.V / m).toFixed(3), redis_in_bytes_per_msg: Math.round(+e.I / m),
      redis_out_bytes_per_msg: Math.round(+e.O / m), redis_cpu_us_per_msg: +(1e6 * +e.U / m).toFixed(1),
      nodes_cpu_us_per_delivery: +(1e6 * (cpu1 + cpu2) / (m * j.config.subs_per_room)).toFixed(3) });
    console.log(JSON.stringify(line));' | tee -a $OUT/summary.jsonl
}
for p in $(seq 1 $PASSES); do
  [ -z "$NO_A" ] && run A_single_$p 127.0.0.1:7200 --pid $SINGLE --subs 100
  [ -z "$NO_A" ] && run A_c2_$p 127.0.0.1:7201 --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7201,127.0.0.1:7202
  if [ -n "$LATENCY" ]; then  # scenario B too: p99 at 1000 msgs/s
    run B_single_$p 127.0.0.1:7200 -s latency --pid $SINGLE --subs 100
    run B_c2_$p 127.0.0.1:7201 -s latency --pid $NODE1 --subs 100 --sub-addrs 127.0.0.1:7201,127.0.0.1:7202
  fi
done
kill $SINGLE $NODE1 $NODE2; sleep 1; kill $REDIS
