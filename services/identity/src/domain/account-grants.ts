import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { formatRoleClaim, type Grant } from "@otmetka/service-kit";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

/** The grants an account holds, as role claims (`TEACHER@school:<id>`). */
export interface AccountGrantsState {
  claims: ReadonlySet<string>;
  /** AccountDeleted: the account takes no grant again. */
  deleted: boolean;
}

/** Routing ids of a grant's scope (the school's municipality for a school scope). */
export interface GrantRouting {
  schoolId: string;
  municipalityId: string;
}

export type AccountGrantsCommand =
  | { type: "GrantRole"; accountId: string; grant: Grant; routing: GrantRouting }
  | { type: "RevokeRole"; accountId: string; grant: Grant; routing: GrantRouting };

export const grantOfEvent = (v: { role: string; scopeKind: string; scopeId: string }): string =>
  v.scopeKind === "" ? v.role : `${v.role}@${v.scopeKind}:${v.scopeId}`;

const payloadOf = (accountId: string, grant: Grant, routing: GrantRouting) => ({
  accountId,
  role: grant.role,
  scopeKind: grant.scope.kind === "none" ? "" : grant.scope.kind,
  scopeId: grant.scope.kind === "none" ? "" : grant.scope.id,
  schoolId: routing.schoolId,
  municipalityId: routing.municipalityId,
});

/**
 * Grants and revocations of one account (stream account-<id>). Granting a held role again is
 * a no-op (no event), so a retried grant is harmless; revoking one not held is refused, and so
 * is anything on a deleted account.
 */
export const accountGrantsDecider: Decider<AccountGrantsState, AccountGrantsCommand> = {
  initialState: () => ({ claims: new Set(), deleted: false }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    // AccountDeleted (same stream) ends the grants: the read model drops them.
    if (e.name === "AccountDeleted") return { claims: new Set(), deleted: true };
    if (e.name !== "RoleGranted" && e.name !== "RoleRevoked") return state;
    const claims = new Set(state.claims);
    if (e.name === "RoleGranted") claims.add(grantOfEvent(e.value));
    else claims.delete(grantOfEvent(e.value));
    return { ...state, claims };
  },
  decide(command, state) {
    const claim = formatRoleClaim(command.grant);
    // A grant that read the account's row before DeleteAccount removed it would otherwise
    // leave a grant of no account in the read model (and block the bootstrap admin).
    if (state.deleted) throw refused("account_id", "the account was deleted");
    if (command.type === "GrantRole") {
      if (state.claims.has(claim)) return [];
      return [
        newEvent("RoleGranted", payloadOf(command.accountId, command.grant, command.routing)),
      ];
    }
    if (!state.claims.has(claim)) throw refused("grant", `${claim} is not held by the account`);
    return [newEvent("RoleRevoked", payloadOf(command.accountId, command.grant, command.routing))];
  },
};

/**
 * A school-level role (TEACHER, SCHOOL_ADMIN) goes to a person's account only while that person
 * works at the school: UnassignStaffFromSchool revokes these roles, so a grant at a school the
 * person left would give back the access the leave ended.
 */
export function requireWorksAtGrantSchool(grant: Grant, staffSchools: readonly string[]): void {
  if (grant.scope.kind !== "school" || staffSchools.includes(grant.scope.id)) return;
  throw refused("grant.scope_id", "the account's person does not work at that school");
}

/**
 * GrantRole of a school-level role: the account's person, who must work at the school. An
 * account without one (an official's, the bootstrap admin's) would hold it with no staff
 * membership to end it, and UnassignStaffFromSchool could never revoke it.
 */
export function requirePersonForSchoolRole(grant: Grant, personId: string | null): string {
  if (personId !== null) return personId;
  throw refused(
    "account_id",
    `has no person: ${grant.role} at a school goes only to the account of a person who works there`,
  );
}
