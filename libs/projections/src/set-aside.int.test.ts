import { afterAll, expect, it } from "vitest";
import { EventSetAside } from "./errors.js";
import { ProjectionRunner } from "./projection-runner.js";
import { rebuildProjection } from "./rebuild.js";
import { readSetAside, type SetAsideEvent } from "./set-aside.js";
import { eventually } from "./test-support/child.js";
import { type Note, notesProjection } from "./test-support/notes-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_set_aside" });
const runners: ProjectionRunner[] = [];
afterAll(() => Promise.all(runners.map((r) => r.stop())));

const note = (stream: string, version: number, data: Note, context = "grades") =>
  testEvent(stream, version, `${context}.v1.Noted`, data);

async function start(name: string, attempts?: Map<string, number>, context?: string) {
  const errors: unknown[] = [];
  const runner = await new ProjectionRunner({
    projection: notesProjection(name, {
      ...(attempts ? { attempts } : {}),
      ...(context ? { context } : {}),
    }),
    pool: bed.pool,
    nc: bed.nc,
    names: bed.names,
    // Long enough that everything published before the start is one batch.
    lingerMs: 200,
    onError: (err) => errors.push(err),
  }).start();
  runners.push(runner);
  return { runner, errors };
}

const checkpoint = async (schema: string) =>
  Number((await bed.pool.query(`SELECT seq FROM ${schema}._checkpoint`)).rows[0].seq);

/** Each (stream, version) applied and how often: "a:1x1" is stream a version 1, once. */
const applied = async (schema: string) =>
  (
    await bed.pool.query(
      `SELECT stream_id || ':' || version || 'x' || count(*) AS v FROM ${schema}.notes
       GROUP BY stream_id, version ORDER BY stream_id, version`,
    )
  ).rows.map((r) => r.v);

// A bounded wait: before events were set aside, the runner retried the batch for ever.
const WAIT_MS = 15_000;

it("an event PostgreSQL refuses is set aside with its SQLSTATE; the rest applied once, later events go on, a restart re-applies nothing", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const nul = "before\u0000after";
  const first = [
    note("a", 1, { text: "a1" }),
    note("b", 1, { text: "b1" }),
    note("a", 2, { text: nul }), // text column: 22021
    note("b", 2, { text: "b2" }),
    note("d", 1, { tags: { t: nul } }), // jsonb column: 22P05
    note("a", 3, { text: "a3" }),
    note("c", 1, { text: "c1" }),
  ];
  await publishEvents(nc, names, "grades", first);
  const { runner, errors } = await start("notes");
  await eventually(
    "the batch to be applied",
    async () => (await checkpoint("proj_notes")) === 7,
    WAIT_MS,
  );
  expect(await applied("proj_notes")).toEqual(["a:1x1", "a:3x1", "b:1x1", "b:2x1", "c:1x1"]);
  const setAside = await readSetAside(pool, "notes");
  expect(
    setAside.map((r) => [
      r.streamId,
      r.version,
      r.type,
      r.sqlstate,
      r.source,
      r.sequence,
      r.eventId,
    ]),
  ).toEqual(
    expect.arrayContaining([
      ["a", 2, "grades.v1.Noted", "22021", "grades", 3, first[2]?.eventId],
      ["d", 1, "grades.v1.Noted", "22P05", "grades", 5, first[4]?.eventId],
    ]),
  );
  expect(setAside).toHaveLength(2);
  expect(setAside[0]?.message).toMatch(/0x00|\\u0000/);
  expect(runner.counters).toMatchObject({ setAside: 2, applied: 5, failedBatches: 0 });
  const warned = errors.filter((e) => e instanceof EventSetAside).map((e) => (e as Error).message);
  expect(warned).toHaveLength(2);
  expect(warned.join("\n")).toContain("projection notes: set aside event");
  expect(warned.join("\n")).toContain("stream a version 2");
  expect(warned.join("\n")).toMatch(/22021 .*0x00/);

  // Later events of the same and other streams go on.
  await publishEvents(nc, names, "grades", [
    note("a", 4, { text: "a4" }),
    note("e", 1, { text: "e1" }),
  ]);
  await eventually("later events", async () => (await checkpoint("proj_notes")) === 9, WAIT_MS);
  expect(await applied("proj_notes")).toEqual([
    "a:1x1",
    "a:3x1",
    "a:4x1",
    "b:1x1",
    "b:2x1",
    "c:1x1",
    "e:1x1",
  ]);

  // A restart, a re-published copy of a set-aside event (same id, new sequence), a new event.
  await runner.stop();
  await publishEvents(nc, names, "grades", [first[2] as (typeof first)[0]], { copy: true });
  await publishEvents(nc, names, "grades", [note("f", 1, { text: "f1" })]);
  const again = await start("notes");
  await eventually(
    "the restart to catch up",
    async () => (await checkpoint("proj_notes")) === 11,
    WAIT_MS,
  );
  expect(again.runner.counters).toMatchObject({ applied: 1, setAside: 0, skippedDuplicates: 1 });
  expect(await applied("proj_notes")).toEqual([
    "a:1x1",
    "a:3x1",
    "a:4x1",
    "b:1x1",
    "b:2x1",
    "c:1x1",
    "e:1x1",
    "f:1x1",
  ]);
  expect(await readSetAside(pool, "notes")).toHaveLength(2);
}, 60_000);

it("transient failures (connection cut, 40001), also while a batch is being split, are retried and never set aside", async () => {
  const { nc, pool, names } = bed;
  // Its own stream, so that the first test's events are not in it.
  await ensureContextStream(nc, names, "curriculum");
  const attempts = new Map<string, number>();
  // One batch: k's first application cuts the connection (the batch is retried whole); then
  // the NUL event fails it, and x's second application (in the first half of the split)
  // raises 40001: the split is abandoned and the batch retried from the checkpoint.
  const events = [
    note("k", 1, { text: "k1", fault: "kill" }, "curriculum"),
    note("x", 1, { text: "x1", fault: "serialization-on-second" }, "curriculum"),
    note("bad", 1, { text: "\u0000" }, "curriculum"),
    note("y", 1, { text: "y1" }, "curriculum"),
  ];
  await publishEvents(nc, names, "curriculum", events);
  const { runner, errors } = await start("transient", attempts, "curriculum");
  await eventually(
    "the batch to be applied",
    async () => (await checkpoint("proj_transient")) === 4,
    WAIT_MS,
  );
  expect(await applied("proj_transient")).toEqual(["k:1x1", "x:1x1", "y:1x1"]);
  const setAside = await readSetAside(pool, "transient");
  expect(setAside.map((r) => [r.streamId, r.sqlstate])).toEqual([["bad", "22021"]]);
  const codes = errors.map((e) => (e as { code?: string }).code);
  expect(codes).toContain("57P01"); // the cut connection
  expect(codes).toContain("40001");
  expect(runner.counters.failedBatches).toBeGreaterThanOrEqual(2);
  expect(attempts.get(events[1]?.eventId as string)).toBeGreaterThanOrEqual(3);
}, 60_000);

it("a rebuild passes over the events the live version set aside, and finds and sets aside ones it meets first", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "identity");
  const events = [];
  for (let v = 1; v <= 6; v++) {
    for (const s of ["p", "q", "r"]) {
      const bad = (s === "p" && v === 2) || (s === "r" && v === 5);
      events.push(note(s, v, bad ? { tags: ["\u0000"] } : { text: `${s}${v}` }, "identity"));
    }
  }
  await publishEvents(nc, names, "identity", events);
  const good = events
    .filter((_, i) => i !== 3 && i !== 14)
    .map((e) => `${e.streamId}:${e.version}x1`)
    .sort();
  // The live version sets the two aside, then a rebuild of it runs (small batches, so that
  // a refused event's batch is pipelined behind another).
  const { runner } = await start("rebuilt", undefined, "identity");
  await eventually("live", async () => (await checkpoint("proj_rebuilt")) === 18, WAIT_MS);
  await runner.stop();
  const live = await readSetAside(pool, "rebuilt");
  expect(live).toHaveLength(2);
  const found: SetAsideEvent[] = [];
  const rebuild = (name: string, writeBehind = false) =>
    rebuildProjection({
      projection: notesProjection(name, { context: "identity", writeBehind }),
      pool,
      nc,
      names,
      batchSize: 4,
      onSetAside: (e) => found.push(e),
    });
  const again = await rebuild("rebuilt");
  expect(again).toMatchObject({ setAside: 2, replacedVersion: 1 });
  expect(found).toEqual([]); // known from the live version: no pass was lost on them
  expect(await applied("proj_rebuilt")).toEqual(good);
  expect(await readSetAside(pool, "rebuilt")).toEqual(live); // the same records, times included

  // A read model with no live version meets them itself: finds each, builds again without it.
  // Its inserts are written behind: a refused one fails its batch at the commit, while the
  // next batch is already being applied (its own error is then "transaction aborted").
  const fresh = await rebuild("fresh", true);
  expect(fresh).toMatchObject({ setAside: 2, replacedVersion: 0 });
  expect(found.map((e) => [e.streamId, e.version, e.sqlstate])).toEqual([
    ["p", 2, "22P05"],
    ["r", 5, "22P05"],
  ]);
  expect(await applied("proj_fresh")).toEqual(good);
  const recorded = await readSetAside(pool, "fresh");
  expect(recorded.map((e) => [e.eventId, e.sequence])).toEqual([
    [events[3]?.eventId, 4],
    [events[14]?.eventId, 15],
  ]);
}, 60_000);

it("an event released from _pending that PostgreSQL refuses is set aside, not the event that released it", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "portal");
  const waiting = [
    note("w", 1, { awaits: "k", n: 2 ** 40 }, "portal"), // parks fine as jsonb, 22003 as integer
    note("w", 2, { text: "w2" }, "portal"), // waits behind it
  ];
  await publishEvents(nc, names, "portal", waiting);
  const { runner } = await start("released", undefined, "portal");
  const pending = async () =>
    Number((await pool.query("SELECT count(*) AS n FROM proj_released._pending")).rows[0].n);
  await eventually("both to wait", async () => (await pending()) === 2, WAIT_MS);
  await publishEvents(nc, names, "portal", [
    note("p", 1, { provides: "k", text: "p1" }, "portal"),
    note("z", 1, { text: "z1" }, "portal"),
  ]);
  await eventually("the release", async () => (await checkpoint("proj_released")) === 4, WAIT_MS);
  expect(await applied("proj_released")).toEqual(["p:1x1", "w:2x1", "z:1x1"]);
  expect(await pending()).toBe(0);
  const setAside = await readSetAside(pool, "released");
  expect(setAside.map((e) => [e.eventId, e.sqlstate, e.sequence])).toEqual([
    [waiting[0]?.eventId, "22003", 1],
  ]);
  expect(runner.counters).toMatchObject({ setAside: 1, released: 1 });
}, 60_000);
