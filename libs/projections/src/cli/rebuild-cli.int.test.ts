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

it("otmetka-projections rebuild <projection> builds and swaps in the read model, with progress", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const events = [];
  for (let v = 1; v <= 30; v++)
    for (let s = 0; s < 40; s++) events.push(testEvent(`j-${s}`, v, "grades.v1.MarkRecorded"));
  await publishEvents(nc, names, "grades", events);

  const { stdout, stderr } = await cli("rebuild", "counting", "--batch-size", "100");
  expect(stdout).toMatch(/rebuilt counting v1: 1200 events in \d+ batches/);
  expect(stderr).toMatch(/\d+\/1200 events/); // the progress bar's line
  const r = await pool.query("SELECT sum(events) AS n, sum(gaps) AS g FROM proj_counting.counts");
  expect(Number(r.rows[0].n)).toBe(1200);
  expect(Number(r.rows[0].g)).toBe(0);

  const failed = await cli("rebuild", "nope").catch((err: { code: number; stderr: string }) => err);
  expect(failed).toMatchObject({ code: 1 });
  expect((failed as { stderr: string }).stderr).toContain(
    'no projection named "nope"; known: counting, marks, notes',
  );
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

  const { stdout } = await cli("set-aside", "notes");
  expect(stdout).toContain(bad.eventId);
  expect(stdout).toMatch(/grades#\d+ {2}\S+ {2}grades\.v1\.Noted {2}stream n-1 v1 {2}22021 /);
  expect(stdout).toContain("1 events set aside in proj_notes");
  const json = await cli("set-aside", "notes", "--json");
  expect(JSON.parse(json.stdout.trim())).toMatchObject({
    projection: "notes",
    streamId: "n-1",
    version: 1,
    type: "grades.v1.Noted",
    sqlstate: "22021",
  });
  const failed = await cli("set-aside", "nope").catch(
    (err: { code: number; stderr: string }) => err,
  );
  expect((failed as { stderr: string }).stderr).toContain('no projection named "nope"');
}, 60_000);
