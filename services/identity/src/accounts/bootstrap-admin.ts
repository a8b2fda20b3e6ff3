import { randomUUID } from "node:crypto";
import { isDomainError } from "@otmetka/service-kit";
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
  const accountId = existing.rows[0]?.account_id ?? (await createAdmin(deps, o));
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

/**
 * A refusal names the variable (a password against the policy stops start-up); another
 * instance creating the same admin first is not an error.
 */
async function createAdmin(deps: AuthDeps, o: { username: string; password: string }) {
  try {
    return (await createAccount(deps, { ...o, personId: "" })).accountId;
  } catch (err) {
    if (!isDomainError(err)) throw err;
    if (err.field === "username" && err.kind === "failed_precondition") {
      const { rows } = await deps.store.pool.query<{ account_id: string }>(
        "SELECT account_id FROM accounts WHERE username = $1 AND kind = 'user'",
        [o.username.trim().toLowerCase()],
      );
      if (rows[0]) return rows[0].account_id;
    }
    const variable =
      err.field === "password"
        ? "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"
        : "IDENTITY_BOOTSTRAP_ADMIN_USERNAME";
    throw new Error(`${variable}: ${err.message.replace(/^[^:]*: /, "")}`);
  }
}
