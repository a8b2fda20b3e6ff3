import { findAccount, requireAccount } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { type AccountStatusCommand, accountStatusDecider } from "../domain/account-status.js";
import { notFound } from "../domain/errors.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId, requireName } from "../domain/validators.js";
import type { CallContext } from "./deps.js";
import { runCommand } from "./run-command.js";

/** The account a switch acts on, for the authorization to judge. */
export interface SwitchedAccount {
  accountId: string;
  personId: string | null;
}

/** Checks the caller may disable, enable or delete this account (PERMISSION_DENIED otherwise). */
export type AccountSwitchAuthorizer = (account: SwitchedAccount) => Promise<void> | void;

async function switchAccount(
  deps: AuthDeps,
  input: { commandId: string; accountId: string },
  command: (accountId: string) => AccountStatusCommand,
  ctx: CallContext,
  authorize: AccountSwitchAuthorizer,
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const account = await requireAccount(deps.store.pool, "account_id", input.accountId);
  const cmd = command(account.account_id);
  await authorize({ accountId: account.account_id, personId: account.person_id });
  await runCommand(deps.store, {
    streamId: streamIds.account(account.account_id),
    decider: accountStatusDecider,
    command: cmd,
    commandId,
    result: () => ({}),
    ...ctx,
    alsoWrite: async (client, events) => {
      if (!events.some((e) => e.type.endsWith(".AccountDisabled"))) return;
      // The row lock orders this after a login holding it, so a family that login made is
      // revoked here too; a login after this commit sees the account disabled.
      await client.query("SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE", [
        account.account_id,
      ]);
      await client.query(
        `UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'account disabled'
         WHERE account_id = $1 AND revoked_at IS NULL`,
        [account.account_id, deps.clock.now()],
      );
    },
  });
}

/**
 * DisableAccount: the account cannot log in or refresh from now on (its refresh families are
 * revoked in the same transaction); access tokens already issued expire within their lifetime.
 */
export const disableAccount = (
  deps: AuthDeps,
  input: { commandId: string; accountId: string; reason: string },
  ctx: CallContext,
  authorize: AccountSwitchAuthorizer,
) => {
  // Checked before anything is looked up: bad input is refused whoever asks.
  const reason = requireName("reason", input.reason, 500);
  return switchAccount(
    deps,
    input,
    (accountId) => ({ type: "DisableAccount", accountId, reason }),
    ctx,
    authorize,
  );
};

/** EnableAccount: the account may log in again; its old sessions stay revoked. */
export const enableAccount = (
  deps: AuthDeps,
  input: { commandId: string; accountId: string },
  ctx: CallContext,
  authorize: AccountSwitchAuthorizer,
) =>
  switchAccount(deps, input, (accountId) => ({ type: "EnableAccount", accountId }), ctx, authorize);

/**
 * DeleteAccount: one account goes (opened by mistake: the wrong person, a mistyped username).
 * AccountDeleted on its stream; in the same transaction its row is deleted and with it (ON
 * DELETE CASCADE) its refresh families, so refresh fails at once, and the read models drop
 * its grants. Its username is free again: everything else names the account by id (tokens'
 * `sub`, grant events, the access audit), so a new account under that username is another
 * account and inherits nothing; erasure frees usernames the same way.
 */
export async function deleteAccount(
  deps: AuthDeps,
  input: { commandId: string; accountId: string; reason: string },
  ctx: CallContext,
  authorize: AccountSwitchAuthorizer,
): Promise<void> {
  const reason = requireName("reason", input.reason, 500);
  const commandId = requireCommandId(input.commandId);
  const accountId = requireId("account_id", input.accountId);
  const row = await findAccount(deps.store.pool, accountId);
  if (row) await authorize({ accountId, personId: row.person_id });
  // A retry after the row is gone replays the first answer (runPlan finds the command first).
  else if (!(await deps.store.findCommand(commandId))) {
    throw notFound("account_id", "account", accountId);
  }
  await runCommand(deps.store, {
    streamId: streamIds.account(accountId),
    decider: accountStatusDecider,
    command: { type: "DeleteAccount", accountId, reason },
    commandId,
    result: () => ({}),
    ...ctx,
    alsoWrite: async (client, events) => {
      if (events.length > 0) {
        await client.query("DELETE FROM accounts WHERE account_id = $1", [accountId]);
      }
    },
  });
}
