import { databaseUrlVariable, loadConfigOrExit } from "@otmetka/service-kit/config";
import { z } from "zod";
import { DEFAULT_DATABASE_URL } from "./config.js";
import { openIdentityDatabase } from "./db/open-database.js";
import { strayGrants } from "./projections/stray-grants.js";

/**
 * `npm run stray-grants`: lists school roles held where the account's person does not work
 * (README "Stray school roles"), one tab-separated line each; changes nothing. Needs only
 * DATABASE_URL (no keys: nothing is decrypted).
 */
const config = loadConfigOrExit(
  z.object({ DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL) }),
);
const store = await openIdentityDatabase(config.DATABASE_URL);
try {
  const found = await strayGrants(store.pool);
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
} finally {
  await store.close();
}
