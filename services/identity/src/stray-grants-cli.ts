import { databaseUrlVariable, loadConfigOrExit } from "@otmetka/service-kit/config";
import pg from "pg";
import { z } from "zod";
import { missingStrayGrantTables, strayGrants } from "./projections/stray-grants.js";

/**
 * `npm run stray-grants`: lists school roles held where the account's person does not work
 * (README "Stray school roles"), one tab-separated line each; changes nothing. Needs only
 * DATABASE_URL, with no default (no keys: nothing is decrypted). A plain pool, not
 * openIdentityDatabase: a mistyped URL must not create an empty database and report none
 * (a false all-clear), and a newer build must not migrate the running service's database.
 */
const config = loadConfigOrExit(z.object({ DATABASE_URL: databaseUrlVariable() }));
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });
const fail = (message: string) => {
  process.stderr.write(`stray-grants: ${message}\n`);
  process.exitCode = 1;
};
try {
  const missing = await missingStrayGrantTables(pool);
  if (missing.length > 0) {
    fail(
      `DATABASE_URL: no identity read models there (missing ${missing.join(", ")}); point it at the identity service's migrated database`,
    );
  } else {
    const found = await strayGrants(pool);
    const header = "school_id\trole\taccount_id\tusername\tperson_id\tdisabled";
    const lines = found.map((g) =>
      [
        g.schoolId,
        g.role,
        g.accountId,
        g.username ?? "",
        g.personId ?? "(no person)",
        g.disabled ? "disabled" : "",
      ].join("\t"),
    );
    process.stdout.write(`${[header, ...lines].join("\n")}\n`);
    process.stderr.write(`${found.length} school role(s) held where the person does not work\n`);
  }
} catch (err) {
  // The URL may carry a password: the server's message names the database, not the URL.
  fail(`DATABASE_URL: cannot read the database: ${err instanceof Error ? err.message : err}`);
} finally {
  await pool.end();
}
