import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { rebuildProjection } from "../rebuild.js";
import { notesProjection } from "../test-support/notes-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "../test-support/publish.js";
import { useTestbed } from "../test-support/testbed.js";

const bed = useTestbed({ label: "projections_cli", poolMax: 2 });
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

const cli = (...args: string[]) =>
  promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      ...args,
      "--module",
      "src/test-support/cli-projections.ts",
    ],
    { cwd: packageRoot, env: { ...process.env, ...bed.env.env } },
  );

/** A run of the command that must fail: its exit code and stderr (rejects if it succeeds). */
const cliFailure = (...args: string[]) =>
  cli(...args).then(
    (r) => {
      throw new Error(`expected \`${args.join(" ")}\` to fail; it printed ${r.stdout}`);
    },
    (err: { code: number; stderr: string }) => err,
  );

it("otmetka-projections rebuild <projection> builds and swaps in the read model, with progress", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const events = [];
  for (let v = 1; v <= 30; v++)
    for (let s = 0; s < 40; s++) events.push(testEvent(`j-${s}`, v, "grades.v1.MarkRecorded"));
  await publishEvents(nc, names, "grades", events);

  // Each run of the command starts a process (~3 s under tsx): the independent runs overlap.
  const [{ stdout, stderr }, failed] = await Promise.all([
    cli("rebuild", "counting", "--batch-size", "100"),
    cliFailure("rebuild", "nope"),
  ]);
  expect(stdout).toMatch(/rebuilt counting v1: 1200 events in \d+ batches/);
  expect(stderr).toMatch(/\d+\/1200 events/); // the progress bar's line
  const r = await pool.query("SELECT sum(events) AS n, sum(gaps) AS g FROM proj_counting.counts");
  expect(Number(r.rows[0].n)).toBe(1200);
  expect(Number(r.rows[0].g)).toBe(0);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain('no projection named "nope"; known: counting, marks, notes');
}, 60_000);

it("otmetka-projections set-aside <projection> lists the events the read model set aside", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const bad = testEvent("n-1", 1, "grades.v1.Noted", { text: "nul \u0000 here" });
  await publishEvents(nc, names, "grades", [
    testEvent("n-0", 1, "grades.v1.Noted", { text: "fine" }),
    bad,
  ]);
  // `counting` above read grades too; `notes` is built here (its rebuild sets the event aside).
  await rebuildProjection({ projection: notesProjection("notes"), pool, nc, names });

  const [{ stdout }, json, failed] = await Promise.all([
    cli("set-aside", "notes"),
    cli("set-aside", "notes", "--json"),
    cliFailure("set-aside", "nope"),
  ]);
  expect(stdout).toContain(bad.eventId);
  expect(stdout).toMatch(/grades#\d+ {2}\S+ {2}grades\.v1\.Noted {2}stream n-1 v1 {2}22021 /);
  expect(stdout).toContain("1 events set aside in proj_notes");
  expect(JSON.parse(json.stdout.trim())).toMatchObject({
    projection: "notes",
    streamId: "n-1",
    version: 1,
    type: "grades.v1.Noted",
    sqlstate: "22021",
  });
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain('no projection named "nope"');
}, 60_000);

it("otmetka-projections rebuild --max-set-aside <n> is the rebuild's limit (0: the first refused event fails it); a bad value is refused naming the option", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  // Refused events the live `notes` (if any) has not set aside: the rebuild meets them first.
  await publishEvents(nc, names, "grades", [
    testEvent("n-2", 1, "grades.v1.Noted", { text: "nul \u0000 again" }),
  ]);
  const liveNotes = async () =>
    (await pool.query("SELECT to_regnamespace('proj_notes') AS s")).rows[0].s === null
      ? "none"
      : (await pool.query("SELECT count(*) AS n FROM proj_notes._set_aside")).rows[0].n;
  const before = await liveNotes();

  const [zero, negative] = await Promise.all([
    cliFailure("rebuild", "notes", "--max-set-aside", "0", "--no-progress"),
    cliFailure("rebuild", "notes", "--max-set-aside", "-1"),
  ]);
  // Under the default (20) it would be set aside and the rebuild swapped in; with 0 PostgreSQL's
  // error fails the rebuild.
  expect(zero.code).toBe(1);
  expect(zero.stderr).toMatch(/invalid byte sequence for encoding "UTF8": 0x00/);
  expect(negative.code).toBe(1);
  expect(negative.stderr).toContain(
    "option '--max-set-aside <n>' argument '-1' is invalid. must be an integer >= 0",
  );
  // Nothing swapped in.
  expect(await liveNotes()).toBe(before);
}, 60_000);
