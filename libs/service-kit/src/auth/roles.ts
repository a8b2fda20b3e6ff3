import { DomainError } from "../domain-error.js";

/** Every role of issue 7. SERVICE is a platform service acting for itself (its name in `svc`). */
export const ROLES = [
  "TEACHER",
  "SCHOOL_ADMIN",
  "MUNICIPAL_OFFICER",
  "MINISTRY_OFFICER",
  "GUARDIAN",
  "STUDENT",
  "PORTAL_SUBSCRIBER",
  "PLATFORM_ADMIN",
  "SERVICE",
] as const;
export type Role = (typeof ROLES)[number];

export type ScopeKind = "school" | "municipality" | "region";
export type Scope = { kind: ScopeKind; id: string } | { kind: "none" };

export interface Grant {
  role: Role;
  scope: Scope;
}

/** The one scope level each role is granted at; roles without one act for their own person. */
export const SCOPE_OF_ROLE: Readonly<Record<Role, ScopeKind | "none">> = {
  TEACHER: "school",
  SCHOOL_ADMIN: "school",
  MUNICIPAL_OFFICER: "municipality",
  MINISTRY_OFFICER: "region",
  GUARDIAN: "none",
  STUDENT: "none",
  PORTAL_SUBSCRIBER: "none",
  PLATFORM_ADMIN: "none",
  SERVICE: "none",
};

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

/**
 * Parses a `roles` claim entry: `ROLE@kind:id` for scoped roles, bare `ROLE` for the others.
 * A role at the wrong level (a teacher of a region) is refused, so a forged or stale claim
 * cannot widen what the role means.
 */
export function parseRoleClaim(claim: string): Grant {
  const at = claim.indexOf("@");
  const name = at < 0 ? claim : claim.slice(0, at);
  if (!isRole(name)) throw new DomainError("unauthenticated", `roles: unknown role "${name}"`);
  const level = SCOPE_OF_ROLE[name];
  if (at < 0) {
    if (level !== "none") {
      throw new DomainError("unauthenticated", `roles: ${name} needs a ${level} scope`);
    }
    return { role: name, scope: { kind: "none" } };
  }
  const rest = claim.slice(at + 1);
  const colon = rest.indexOf(":");
  const kind = rest.slice(0, colon);
  const id = rest.slice(colon + 1);
  if (colon < 0 || id === "" || kind !== level) {
    throw new DomainError(
      "unauthenticated",
      `roles: "${claim}" is not ${level === "none" ? name : `${name}@${level}:<id>`}`,
    );
  }
  return { role: name, scope: { kind: level, id } };
}

export function formatRoleClaim(grant: Grant): string {
  return grant.scope.kind === "none"
    ? grant.role
    : `${grant.role}@${grant.scope.kind}:${grant.scope.id}`;
}
