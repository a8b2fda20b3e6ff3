import { randomUUID } from "node:crypto";
import { grantRole } from "../commands/grants.js";
import { createAccount } from "./accounts.js";
import type { AuthDeps } from "./deps.js";

/**
 * Start-up: when no account holds PLATFORM_ADMIN, create `username` with `password` (or take
 * the existing account of that name) and grant it PLATFORM_ADMIN. Once an admin exists this
 * does nothing, so the variables can stay set; the password is never logged.
 */
export async function bootstrapAdmin(
  deps: AuthDeps,
  o: { username: string; password: string },
): Promise<{ accountId: string } | undefined> {
  const { rows } = await deps.store.pool.query(
    "SELECT 1 FROM account_grants WHERE role = 'PLATFORM_ADMIN' LIMIT 1",
  );
  if (rows.length > 0) return undefined;
  const existing = await deps.store.pool.query<{ account_id: string }>(
    "SELECT account_id FROM accounts WHERE username = $1 AND kind = 'user'",
    [o.username.trim().toLowerCase()],
  );
  const accountId =
    existing.rows[0]?.account_id ??
    (await createAccount(deps, { username: o.username, password: o.password, personId: "" }))
      .accountId;
  await grantRole(
    deps,
    {
      commandId: randomUUID(),
      accountId,
      grant: { role: "PLATFORM_ADMIN", scopeKind: "", scopeId: "" },
    },
    { metadata: { actor: { id: accountId, kind: "user" } } },
    () => {},
  );
  return { accountId };
}
