/**
 * A short soak in CI (the long runs are `npm run soak`, see
 * docs/reliability.md): a few hundred clients under Bun come and go for
 * 12 s (two waves) while hostile clients play the abuse table (rename
 * flood, churn from one address, since-0 resumes over maximum-size
 * messages, 40-frame writes, look-alike nicks), and nothing is lost or left
 * behind; then the same with SIGKILL restarts on a data directory; then
 * on a two-node cluster with a node killed per wave.
 */
import { expect, test } from "bun:test";
import { runSoak } from "../../scripts/soak.ts";

test("soak under abuse: 300 clients join, chat, vanish and resume for 12 s in two waves while attackers flood; steady clients get every message in order, pings stay fast, nothing is left behind", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const report = await runSoak({ runtime: "bun", seconds: 12, clients: 300, msgRate: 100, seed, abuse: true });
  expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] });
  expect(report.counts.acked).toBeGreaterThan(500);
  expect(report.counts.resumes).toBeGreaterThan(100);
  expect(Object.keys(report.counts.departures).sort()).toEqual(["fin", "half-frame", "leave+quit", "quit", "reset", "stall"]);
  expect(report.disconnectLines).toBe(report.counts.connections);
  // The attacks ran (their bounds are checked inside and reported as problems), and honest pings were measured.
  expect(report.abuse).toHaveLength(2);
  // Floors low enough for a loaded machine (a wave's attack lasts about 3 s here).
  for (const attack of report.abuse!) {
    expect(attack.churnConnections).toBeGreaterThan(2);
    expect(attack.renamesSent).toBeGreaterThanOrEqual(100);
    expect(attack.bigResumes).toBeGreaterThan(0);
    expect(attack.burstWrites).toBeGreaterThan(0);
    expect(attack.lookalikesTried).toBeGreaterThan(0);
  }
  expect(report.pings.count).toBeGreaterThan(20);
}, 60_000);

test("soak with restarts: the server is killed (SIGKILL) twice a wave on its data directory while 150 clients churn; nothing acked is lost and resumes are exact", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const report = await runSoak({ runtime: "bun", seconds: 10, clients: 150, msgRate: 100, seed, restarts: 2 });
  expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] });
  expect(report.counts.acked).toBeGreaterThan(300);
  expect(report.counts.resumes).toBeGreaterThan(300);
}, 60_000);

test("soak on a cluster: 80 clients spread over 2 nodes sharing a redis-server, each return through the other node, one node SIGKILLed per wave; nothing acked is lost and resumes are exact", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const report = await runSoak({ runtime: "bun", seconds: 4, clients: 80, msgRate: 60, seed, cluster: 2, restarts: 1 });
  expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] });
  expect(report.nodes).toBe(2);
  // Floors low enough for a loaded machine: the run ran, its checks above found nothing.
  expect(report.counts.acked).toBeGreaterThan(40);
  expect(report.counts.resumes).toBeGreaterThan(30);
}, 60_000);
