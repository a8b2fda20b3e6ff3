import { afterAll, expect, it } from "vitest";
import { EventSetAside, SetAsideLimitReached } from "./errors.js";
import { ProjectionRunner } from "./projection-runner.js";
import { rebuildProjection } from "./rebuild.js";
import { readSetAside, type SetAsideEvent } from "./set-aside.js";
import { eventually } from "./test-support/child.js";
import { type Note, notesProjection } from "./test-support/notes-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

// Each runner holds a connection for its lock while it lives (they are stopped after all).
const bed = useTestbed({ label: "projections_set_aside", poolMax: 12 });
const runners: ProjectionRunner[] = [];
afterAll(() => Promise.all(runners.map((r) => r.stop())));

const note = (stream: string, version: number, data: Note, context = "grades") =>
  testEvent(stream, version, `${context}.v1.Noted`, data);

async function start(
  name: string,
  attempts?: Map<string, number>,
  context?: string,
  /** `projection`: the projection's `maxSetAside`; `runner`: the runner's option. */
  limit: { projection?: number; runner?: number } = {},
) {
  const errors: unknown[] = [];
  const runner = await new ProjectionRunner({
    projection: notesProjection(name, {
      ...(attempts ? { attempts } : {}),
      ...(context ? { context } : {}),
      ...(limit.projection === undefined ? {} : { maxSetAside: limit.projection }),
    }),
    pool: bed.pool,
    nc: bed.nc,
    names: bed.names,
    // Long enough that everything published before the start is one batch.
    lingerMs: 200,
    ...(limit.runner === undefined ? {} : { maxSetAside: limit.runner }),
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
  const passedOver = ["a:1x1", "a:3x1", "a:4x1", "b:1x1", "b:2x1", "c:1x1", "e:1x1"];
  expect(await applied("proj_notes")).toEqual(passedOver);

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
  expect(await applied("proj_notes")).toEqual([...passedOver, "f:1x1"]);
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

const setAsideIds = async (name: string) =>
  (await readSetAside(bed.pool, name)).map((r) => r.eventId);

it("a projection holds at most maxSetAside set-aside events: the next one stalls it with SetAsideLimitReached (later events wait) until an operator deletes rows", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "breaker");
  const ok = (s: string) => note(s, 1, { text: s }, "breaker");
  const bad = (s: string) => note(s, 1, { text: `${s}\u0000` }, "breaker");
  // A handler bug refusing every event of a kind would look like this: one batch, three bad.
  const events = [ok("a"), bad("b"), ok("c"), bad("d"), ok("e"), bad("f"), ok("h")];
  await publishEvents(nc, names, "breaker", events);
  const { runner, errors } = await start("limited", undefined, "breaker", { projection: 2 });
  const limitErrors = () => errors.filter((e) => e instanceof SetAsideLimitReached);
  // Retried like any failed batch: reported again and again, nothing more set aside.
  await eventually("the limit to stop it, twice", () => limitErrors().length >= 2, WAIT_MS);
  const stop = limitErrors()[0] as SetAsideLimitReached;
  expect(stop).toMatchObject({ projection: "limited", limit: 2, setAside: 2 });
  expect(stop.event?.eventId).toBe(events[5]?.eventId);
  expect(stop.message).toContain("projection limited");
  expect(stop.message).toContain("otmetka-projections set-aside limited");
  expect(stop.message).toMatch(/2 events set aside.*limit.*2/);
  expect(await setAsideIds("limited")).toEqual([events[1]?.eventId, events[3]?.eventId]);
  // The events before the third bad one are applied, in order; it and later ones are not.
  expect(await checkpoint("proj_limited")).toBe(5);
  expect(await applied("proj_limited")).toEqual(["a:1x1", "c:1x1", "e:1x1"]);
  expect(runner.counters.setAside).toBe(2);

  // Later events wait too (two more failed retries after they were published).
  await publishEvents(nc, names, "breaker", [ok("i")]);
  const failed = runner.counters.failedBatches;
  await eventually("more retries", () => runner.counters.failedBatches >= failed + 2, WAIT_MS);
  expect(await checkpoint("proj_limited")).toBe(5);
  expect(await applied("proj_limited")).toEqual(["a:1x1", "c:1x1", "e:1x1"]);
  expect(await setAsideIds("limited")).toHaveLength(2);

  // The operator looked at them and cleared them: the count drops, the runner goes on.
  await pool.query("DELETE FROM proj_limited._set_aside");
  await eventually("the rest", async () => (await checkpoint("proj_limited")) === 8, WAIT_MS);
  expect(await applied("proj_limited")).toEqual(["a:1x1", "c:1x1", "e:1x1", "h:1x1", "i:1x1"]);
  expect(await setAsideIds("limited")).toEqual([events[5]?.eventId]);
  await runner.stop();
}, 60_000);

it("maxSetAside 0 (the runner's option over the projection's) sets nothing aside: the batch fails with PostgreSQL's error, as before set-aside existed", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "nobreaker");
  await publishEvents(nc, names, "nobreaker", [note("a", 1, { text: "a1" }, "nobreaker")]);
  const { runner, errors } = await start("stalled", undefined, "nobreaker", {
    projection: 5,
    runner: 0,
  });
  await eventually("a1", async () => (await checkpoint("proj_stalled")) === 1, WAIT_MS);
  await publishEvents(nc, names, "nobreaker", [
    note("b", 1, { text: "b\u0000" }, "nobreaker"),
    note("c", 1, { text: "c1" }, "nobreaker"),
  ]);
  await eventually("two failed batches", () => runner.counters.failedBatches >= 2, WAIT_MS);
  expect(await checkpoint("proj_stalled")).toBe(1);
  expect(await applied("proj_stalled")).toEqual(["a:1x1"]);
  expect(await readSetAside(pool, "stalled")).toEqual([]);
  expect(errors.map((e) => (e as { code?: string }).code)).toContain("22021");
  expect(
    errors.filter((e) => e instanceof SetAsideLimitReached || e instanceof EventSetAside),
  ).toEqual([]);
  expect(runner.counters.setAside).toBe(0);
  await runner.stop();
}, 60_000);

it("a rebuild that would set aside more than the limit fails with SetAsideLimitReached, swapping nothing in; 0 fails with PostgreSQL's error", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "rebreaker");
  const events = [
    note("a", 1, { text: "a1" }, "rebreaker"),
    note("b", 1, { tags: ["\u0000"] }, "rebreaker"),
    note("c", 1, { text: "c1" }, "rebreaker"),
    note("d", 1, { tags: ["\u0000"] }, "rebreaker"),
    note("e", 1, { text: "e1" }, "rebreaker"),
  ];
  await publishEvents(nc, names, "rebreaker", events);
  const rebuild = (projectionLimit: number | undefined, option?: number) => {
    const found: string[] = [];
    const done = rebuildProjection({
      projection: notesProjection("capped", {
        context: "rebreaker",
        ...(projectionLimit === undefined ? {} : { maxSetAside: projectionLimit }),
      }),
      pool,
      nc,
      names,
      batchSize: 2,
      ...(option === undefined ? {} : { maxSetAside: option }),
      onSetAside: (e) => found.push(e.eventId),
    });
    return { done, found };
  };
  const liveExists = async () =>
    (await pool.query("SELECT to_regnamespace('proj_capped') AS s")).rows[0].s !== null;

  // The projection's own limit applies to its rebuilds too.
  const one = rebuild(1);
  const err = await one.done.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SetAsideLimitReached);
  expect(err).toMatchObject({ projection: "capped", limit: 1, setAside: 1 });
  expect((err as SetAsideLimitReached).event?.eventId).toBe(events[3]?.eventId);
  expect(one.found).toEqual([events[1]?.eventId]);
  expect(await liveExists()).toBe(false);

  const zero = rebuild(5, 0);
  await expect(zero.done).rejects.toMatchObject({ code: "22P05" });
  expect(zero.found).toEqual([]);
  expect(await liveExists()).toBe(false);

  const two = rebuild(1, 2);
  await expect(two.done).resolves.toMatchObject({ setAside: 2 });
  expect(await applied("proj_capped")).toEqual(["a:1x1", "c:1x1", "e:1x1"]);
}, 60_000);
