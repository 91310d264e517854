/**
 * A short soak in CI (the long runs are `npm run soak`, see
 * docs/reliability.md): a few hundred clients under Bun come and go for
 * 12 s (two waves), and nothing is lost or left behind; then the same with
 * SIGKILL restarts on a data directory.
 */
import { expect, test } from "bun:test";
import { runSoak } from "../../scripts/soak.ts";

test("soak: 300 clients join, chat, vanish and resume for 12 s in two waves; steady clients get every message in order, nothing is left behind", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const report = await runSoak({ runtime: "bun", seconds: 12, clients: 300, msgRate: 100, seed });
  expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] });
  expect(report.counts.acked).toBeGreaterThan(500);
  expect(report.counts.resumes).toBeGreaterThan(100);
  expect(Object.keys(report.counts.departures).sort()).toEqual(["fin", "half-frame", "leave+quit", "quit", "reset", "stall"]);
  expect(report.disconnectLines).toBe(report.counts.connections);
}, 60_000);

test("soak with restarts: the server is killed (SIGKILL) twice a wave on its data directory while 150 clients churn; nothing acked is lost and resumes are exact", async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const report = await runSoak({ runtime: "bun", seconds: 10, clients: 150, msgRate: 100, seed, restarts: 2 });
  expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] });
  expect(report.counts.acked).toBeGreaterThan(300);
  expect(report.counts.resumes).toBeGreaterThan(300);
}, 60_000);
