import { loadAggregate } from "@otmetka/eventstore";
import {
  type Grant,
  hasControlCharacter,
  ROLES,
  type Role,
  SCOPE_OF_ROLE,
} from "@otmetka/service-kit";
import { requireAccount } from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import {
  accountGrantsDecider,
  type GrantRouting,
  requirePersonForSchoolRole,
  requireWorksAtGrantSchool,
} from "../domain/account-grants.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import { personDecider } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId } from "../domain/validators.js";
import type { CallContext } from "./deps.js";
import { decideOnStream, runCommand, runPlan } from "./run-command.js";

export interface GrantInput {
  role: string;
  scopeKind: string;
  scopeId: string;
}

/** What the authorization of a grant needs to know: the grant, where it applies, to whom. */
export interface GrantSubject {
  grant: Grant;
  routing: GrantRouting;
  account: { accountId: string; personId: string | null };
}

/** Checks the caller may grant or revoke this (PERMISSION_DENIED otherwise). */
export type GrantAuthorizer = (subject: GrantSubject) => Promise<void> | void;

/**
 * A grant as requested: a known role (SERVICE is never granted: service accounts hold it by
 * kind), at the scope level of the role, naming an existing school or municipality or the
 * configured region.
 */
export async function requireGrant(
  deps: AuthDeps,
  input: GrantInput | undefined,
): Promise<{ grant: Grant; routing: GrantRouting }> {
  if (!input) throw invalidInput("grant", "is required");
  const role = ROLES.find((r) => r === input.role) as Role | undefined;
  if (!role) throw invalidInput("grant.role", `must be one of ${ROLES.join(", ")}`);
  if (role === "SERVICE")
    throw invalidInput("grant.role", "SERVICE is held by service accounts, never granted");
  const level = SCOPE_OF_ROLE[role];
  if (level === "none") {
    if (input.scopeKind !== "" || input.scopeId !== "") {
      throw invalidInput(
        "grant.scope_kind",
        `${role} has no scope (leave scope_kind and scope_id empty)`,
      );
    }
    return {
      grant: { role, scope: { kind: "none" } },
      routing: { schoolId: "", municipalityId: "" },
    };
  }
  if (input.scopeKind !== level)
    throw invalidInput("grant.scope_kind", `${role} is granted at a ${level}`);
  const pool = deps.store.pool;
  if (level === "school") {
    const id = requireId("grant.scope_id", input.scopeId);
    const { rows } = await pool.query<{ municipality_id: string }>(
      "SELECT municipality_id FROM schools WHERE school_id = $1",
      [id],
    );
    if (!rows[0]) throw notFound("grant.scope_id", "school", id);
    return {
      grant: { role, scope: { kind: "school", id } },
      routing: { schoolId: id, municipalityId: rows[0].municipality_id },
    };
  }
  if (level === "municipality") {
    const id = requireId("grant.scope_id", input.scopeId);
    const { rows } = await pool.query("SELECT 1 FROM municipalities WHERE municipality_id = $1", [
      id,
    ]);
    if (!rows[0]) throw notFound("grant.scope_id", "municipality", id);
    return {
      grant: { role, scope: { kind: "municipality", id } },
      routing: { schoolId: "", municipalityId: id },
    };
  }
  // The one id here that is not a UUID: checked before the not-found message quotes it.
  if (hasControlCharacter(input.scopeId) || input.scopeId.length > 200)
    throw invalidInput("grant.scope_id", "must be a region id: one line of at most 200 characters");
  if (input.scopeId !== deps.regionId) throw notFound("grant.scope_id", "region", input.scopeId);
  return {
    grant: { role, scope: { kind: "region", id: deps.regionId } },
    routing: { schoolId: "", municipalityId: "" },
  };
}

async function changeGrant(
  type: "GrantRole" | "RevokeRole",
  deps: AuthDeps,
  input: { commandId: string; accountId: string; grant?: GrantInput | undefined },
  ctx: CallContext,
  authorize: GrantAuthorizer,
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const account = await requireAccount(deps.store.pool, "account_id", input.accountId);
  if (account.kind !== "user")
    throw refused("account_id", "is a service account (it holds SERVICE only)");
  const { grant, routing } = await requireGrant(deps, input.grant);
  await authorize({
    grant,
    routing,
    account: { accountId: account.account_id, personId: account.person_id },
  });
  const command = { type, accountId: account.account_id, grant, routing };
  // Revoking stays open: it removes what older grants left on accounts without a person.
  if (type === "RevokeRole" || grant.scope.kind !== "school") {
    await runCommand(deps.store, {
      streamId: streamIds.account(account.account_id),
      decider: accountGrantsDecider,
      command,
      commandId,
      result: () => ({}),
      ...ctx,
    });
    return;
  }
  const personId = requirePersonForSchoolRole(grant, account.person_id);
  // Decided on the person's stream too (read, no events): a leave of that school committing
  // before the grant moves it, so the grant plans again and is refused; a grant committing
  // first moves the account's stream, which the leave reads, so the leave revokes it.
  await runPlan(deps.store, {
    commandId,
    payload: command,
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const person = await loadAggregate(deps.store, streamIds.person(personId), personDecider);
      requireWorksAtGrantSchool(grant, person.state.staffSchools);
      return {
        appends: [
          await decideOnStream(
            deps.store,
            streamIds.account(account.account_id),
            accountGrantsDecider,
            command,
          ),
          { streamId: streamIds.person(personId), expected: person.version, events: [] },
        ],
        result: {},
      };
    },
  });
}

/** GrantRole: an event on the account's stream; the read model feeds the next login. */
export const grantRole = (
  deps: AuthDeps,
  input: { commandId: string; accountId: string; grant?: GrantInput | undefined },
  ctx: CallContext,
  authorize: GrantAuthorizer,
) => changeGrant("GrantRole", deps, input, ctx, authorize);

/** RevokeRole: takes effect at the holder's next login or refresh (access tokens are short). */
export const revokeRole = (
  deps: AuthDeps,
  input: { commandId: string; accountId: string; grant?: GrantInput | undefined },
  ctx: CallContext,
  authorize: GrantAuthorizer,
) => changeGrant("RevokeRole", deps, input, ctx, authorize);
