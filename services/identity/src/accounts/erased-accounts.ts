import { randomUUID } from "node:crypto";
import type { IdentityDeps } from "../commands/deps.js";
import { runCommand } from "../commands/run-command.js";
import { accountStatusDecider, ERASURE_REASON } from "../domain/account-status.js";
import { streamIds } from "../domain/stream-ids.js";

/**
 * Start-up repair: accounts whose row is gone without AccountDeleted — erasures before they
 * wrote it deleted the rows alone, so the read models kept their grants and status (and a
 * PLATFORM_ADMIN grant kept the bootstrap admin from being created). Each gets AccountDeleted
 * now, as erasure writes it today, so the tables and a rebuild agree. DeleteAccount and
 * erasure delete the row with the event, and grants need the row, so nothing else is found;
 * once repaired nothing is found again. Returns the accounts repaired.
 */
export async function deleteAccountsOfErasures(deps: IdentityDeps): Promise<string[]> {
  const { rows } = await deps.store.pool.query<{ account_id: string }>(
    `SELECT account_id FROM account_grants UNION SELECT account_id FROM disabled_accounts
     EXCEPT SELECT account_id FROM accounts ORDER BY account_id`,
  );
  for (const { account_id: accountId } of rows) {
    await runCommand(deps.store, {
      streamId: streamIds.account(accountId),
      decider: accountStatusDecider,
      command: { type: "DeleteAccount", accountId, reason: ERASURE_REASON },
      commandId: randomUUID(),
      result: () => ({}),
    });
  }
  return rows.map((r) => r.account_id);
}
