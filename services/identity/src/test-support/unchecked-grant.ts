import type { IdentityDeps } from "../commands/deps.js";
import { runCommand } from "../commands/run-command.js";
import { accountGrantsDecider } from "../domain/account-grants.js";
import { streamIds } from "../domain/stream-ids.js";
import { cmd } from "./in-process.js";

/**
 * TEACHER at the school as GrantRole wrote it before its school rules (ae44c26: the person
 * works there; then: the account has a person): the account stream's decider alone. Grants
 * like these are still in older logs.
 */
export async function grantUnchecked(
  deps: IdentityDeps,
  accountId: string,
  schoolId: string,
  municipalityId: string,
): Promise<void> {
  await runCommand(deps.store, {
    streamId: streamIds.account(accountId),
    decider: accountGrantsDecider,
    command: {
      type: "GrantRole",
      accountId,
      grant: { role: "TEACHER", scope: { kind: "school", id: schoolId } },
      routing: { schoolId, municipalityId },
    },
    commandId: cmd(),
    result: () => ({}),
  });
}
