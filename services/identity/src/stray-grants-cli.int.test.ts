import { fileURLToPath } from "node:url";
import { dropDatabase, startServiceProcess, TEST_DB_PREFIX, uniqueSuffix } from "@otmetka/testing";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts/accounts.js";
import type { AuthDeps } from "./accounts/deps.js";
import { givenSchool, useIdentity } from "./test-support/in-process.js";
import { grantUnchecked } from "./test-support/unchecked-grant.js";

const t = useIdentity("identity_stray_cli");
const missingName = `${TEST_DB_PREFIX}${uniqueSuffix()}_stray_missing`.slice(0, 63);

/** `npm run stray-grants` as a process (through tsx, as main.int.test.ts runs main.ts). */
async function runCli(env: Record<string, string>) {
  const cli = startServiceProcess({
    name: "stray-grants",
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    entry: "src/stray-grants-cli.ts",
    env,
  });
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

async function onServer<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: t.env.adminDatabaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const urlOf = (database: string) => {
  const u = new URL(t.env.adminDatabaseUrl);
  u.pathname = `/${database}`;
  return u.toString();
};

afterAll(async () => {
  // Only if a run created it (the CLI before its fix did).
  await dropDatabase(t.env.adminDatabaseUrl, missingName);
});

describe("npm run stray-grants reads only", () => {
  it("needs DATABASE_URL (no default database)", async () => {
    const run = await runCli({});
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain("DATABASE_URL");
    expect(run.stdout).toBe("");
  });

  it("fails on a database that does not exist, and does not create it", async () => {
    const run = await runCli({ DATABASE_URL: urlOf(missingName) });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain("DATABASE_URL");
    expect(run.stderr).toContain("does not exist");
    expect(run.stdout).toBe("");
    const exists = await onServer(
      async (c) =>
        (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [missingName])).rowCount,
    );
    expect(exists).toBe(0);
  });

  it("fails on an unmigrated database, naming the missing tables, and creates none", async () => {
    const empty = await t.env.createDatabase("stray_empty");
    const run = await runCli({ DATABASE_URL: empty.url });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain("DATABASE_URL");
    expect(run.stderr).toContain("account_grants");
    expect(run.stdout).toBe("");
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("lists the stray roles of the identity database", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const { accountId } = await createAccount({ ...d, regionId: "74" } as AuthDeps, {
      username: `stray.cli.${uniqueSuffix().slice(-8)}`,
      password: "a long enough password 1",
      personId: "",
    });
    await grantUnchecked(d, accountId, a.schoolId, a.municipalityId);
    const run = await runCli({ DATABASE_URL: t.env.databaseUrl });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${a.schoolId}\tTEACHER\t${accountId}\t`);
    expect(run.stderr).toContain("1 school role(s) held where the person does not work");
  });
});
