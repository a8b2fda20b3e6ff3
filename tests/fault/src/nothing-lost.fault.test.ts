/**
 * Nothing lost when parts of the platform fail. identity, curriculum, grades and reporting run
 * as processes on a private PostgreSQL and a private 3-node JetStream cluster (R3 streams);
 * a steady load of marks goes through grades while, in turn, a NATS node, each service and
 * PostgreSQL are killed and restarted, and a long transaction holds grades' log horizon. After
 * each fault every committed mark must be in reporting's read model exactly once.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Counts, deliveredOf, formatCounts, invisibleEvents, settle } from "./ledger.js";
import { startMarkLoad } from "./mark-load.js";
import { type FaultPlatform, SERVICES, startFaultPlatform } from "./platform.js";
import { type Journal, setUpSchool } from "./school.js";

const log = (msg: string) => process.stdout.write(`[fault] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MARK_INTERVAL_MS = 40;
/** Marks each client must have answered before a fault and again after it. */
const MARKS_AROUND_FAULT = 10;

let p: FaultPlatform;
let journals: Journal[];
const acked = new Set<string>();

beforeAll(async () => {
  p = await startFaultPlatform(log);
  try {
    journals = await setUpSchool(p.issuer, p.address, { classes: 2, subjects: 2, pupils: 3 });
    log(`school set up: ${journals.length} journals`);
  } catch (err) {
    log(p.tails());
    throw err;
  }
}, 600_000);

afterAll(async () => {
  await p?.stop();
}, 120_000);

/** Runs the load around `fault`, then waits for reporting and checks and prints the counts. */
async function underLoad(label: string, fault: () => Promise<string | undefined>) {
  const load = await startMarkLoad({
    address: p.address.grades,
    issuer: p.issuer,
    journals,
    intervalMs: MARK_INTERVAL_MS,
    acked,
  });
  let note: string | undefined;
  try {
    // Marks in flight through every client when the fault strikes, and answered again by
    // every client after it (instead of fixed 1.5 s windows either side).
    await load.eachAnswered(MARKS_AROUND_FAULT);
    note = await fault();
    await load.eachAnswered(MARKS_AROUND_FAULT);
  } finally {
    await load.stop();
  }
  const counts = await settle(p.databaseUrl, acked);
  const restarts = Object.entries(p.unplannedRestarts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  log(
    formatCounts(
      label,
      counts,
      [
        `client retries ${load.retries}, replayed answers ${load.replays}`,
        restarts && `crash restarts: ${restarts}`,
        note,
      ]
        .filter(Boolean)
        .join("; "),
    ),
  );
  expectNothingLost(counts);
  return counts;
}

function expectNothingLost(c: Counts) {
  if (c.lost !== 0 || c.duplicated !== 0 || c.countersShort !== 0 || c.inInbox !== c.committed)
    log(p.tails());
  expect(c.committed).toBeGreaterThan(0);
  expect(c.ackedMissing).toBe(0);
  expect(c.lost).toBe(0);
  expect(c.duplicated).toBe(0);
  expect(c.countersShort).toBe(0);
  expect(c.inInbox).toBe(c.committed);
  expect(c.delivered).toBe(c.committed);
  expect(c.pupilsOff).toBe(0);
}

it("a NATS node killed and restarted under load: nothing lost, nothing applied twice", async () => {
  const before = (await settle(p.databaseUrl, acked)).committed;
  const counts = await underLoad("NATS node killed", async () => {
    // Kill the node that leads grades' stream: publishes and consumers must move on.
    const nc = await connect({ servers: p.nats.url.split(",") });
    let leader: string | undefined;
    try {
      const jsm = await jetstreamManager(nc);
      for await (const s of jsm.streams.list()) {
        if (s.config.name.endsWith("_GRADES")) leader = s.cluster?.leader;
        expect(s.config.num_replicas).toBe(3);
      }
    } finally {
      await nc.close();
    }
    const node = p.nats.nodes.find((n) => n.name === leader) ?? (p.nats.nodes[0] as never);
    await node.kill();
    await sleep(4000);
    await node.restart();
    return `killed ${node.name} (grades stream leader: ${leader ?? "unknown"}) for 4 s`;
  });
  expect(counts.committed).toBeGreaterThan(before);
}, 300_000);

it("each service killed (SIGKILL) and restarted under load: nothing lost", async () => {
  const before = (await settle(p.databaseUrl, acked)).committed;
  const counts = await underLoad("services killed", async () => {
    // One after another, a second apart: each comes back while the next goes down.
    const t0 = Date.now();
    for (const name of SERVICES) {
      await p.crash(name);
      await sleep(1000);
    }
    await p.ready();
    return `killed ${SERVICES.join(", ")} a second apart, all back after ${Date.now() - t0} ms`;
  });
  expect(counts.committed).toBeGreaterThan(before);
}, 400_000);

it("PostgreSQL restarted under load: nothing lost, no service exits", async () => {
  const before = (await settle(p.databaseUrl, acked)).committed;
  const crashesBefore = { ...p.unplannedRestarts };
  const counts = await underLoad("PostgreSQL restarted", async () => {
    await p.pg.stop();
    await sleep(2000);
    await p.pg.restart();
    await p.ready();
    return "fast shutdown, down 2 s";
  });
  expect(counts.committed).toBeGreaterThan(before);
  // Services ride a database restart out (queries fail and are retried): the supervisor
  // restarted none. Reporting used to exit 1 here now and then (an unheard pg client 'error').
  expect(p.unplannedRestarts).toEqual(crashesBefore);
}, 400_000);

it("a long transaction in grades' database stalls its relay and reporting, which catch up without loss", async () => {
  // In grades' own database: the event store's readAll is bounded by the oldest running
  // transaction of its database (one in another database of the server no longer holds it).
  const other = new pg.Client({ connectionString: p.databaseUrl.grades });
  await other.connect();
  let maxInvisible = 0;
  let heldMarks: string[] = [];
  let seenDuringHold = 0;
  let catchUpMs = 0;
  const holdMs = 5000;
  try {
    await underLoad("long transaction", async () => {
      // Taking an xid makes it a transaction that could write the log: readAll stays below it.
      await other.query("BEGIN");
      await other.query("SELECT pg_current_xact_id()");
      const started = Date.now();
      // Marks answered from a second on were written after the transaction took its xid
      // (one in flight at its start could hold an older xid and stay visible).
      await sleep(1000);
      const before = new Set(acked);
      while (Date.now() - started < holdMs) {
        maxInvisible = Math.max(maxInvisible, await invisibleEvents(p.databaseUrl.grades));
        await sleep(250);
      }
      // Marks answered during the hold: committed, but above the horizon.
      heldMarks = [...acked].filter((id) => !before.has(id));
      seenDuringHold = await deliveredOf(p.databaseUrl.reporting, heldMarks);
      await other.query("COMMIT");
      const ended = Date.now();
      while (
        (await deliveredOf(p.databaseUrl.reporting, heldMarks)) < heldMarks.length &&
        Date.now() - ended < 60_000
      )
        await sleep(50);
      catchUpMs = Date.now() - ended;
      return (
        `held ${holdMs} ms: ${heldMarks.length} marks committed meanwhile, ${seenDuringHold} of ` +
        `them in reporting before the commit, up to ${maxInvisible} events invisible to the ` +
        `relay; reporting had them all ${catchUpMs} ms after the commit (lag ≈ ${holdMs + catchUpMs} ms)`
      );
    });
  } finally {
    await other.end().catch(() => undefined);
  }
  // The stall is real: marks committed during the hold waited for the transaction.
  expect(heldMarks.length).toBeGreaterThan(0);
  expect(maxInvisible).toBeGreaterThan(0);
  expect(seenDuringHold).toBe(0);
}, 400_000);
