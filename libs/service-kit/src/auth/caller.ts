import { DomainError } from "../domain-error.js";
import type { Grant, Role } from "./roles.js";

/** Who made a call, as verified from their token. */
export interface Caller {
  kind: "user" | "service";
  /** The account (token subject). */
  accountId: string;
  /** The person the account belongs to (staff, pupil, guardian); absent for service accounts. */
  personId?: string;
  /** The calling service's name, for service tokens. */
  service?: string;
  grants: Grant[];
  /** The verified token, to forward on downstream calls made for this caller. */
  token: string;
}

/** What a call acts on; each grant is compared at its own level. */
export interface ScopeTarget {
  schoolId?: string;
  municipalityId?: string;
  regionId?: string;
}

/** Roles that hold across every scope: they pass any check that lists them. */
const UNSCOPED: ReadonlySet<Role> = new Set(["PLATFORM_ADMIN", "SERVICE"]);

function covers(grant: Grant, target: ScopeTarget | undefined): boolean {
  if (UNSCOPED.has(grant.role) || grant.scope.kind === "none") return true;
  if (!target) return false;
  switch (grant.scope.kind) {
    case "school":
      return target.schoolId === grant.scope.id;
    case "municipality":
      return target.municipalityId === grant.scope.id;
    case "region":
      return target.regionId === grant.scope.id;
  }
}

/**
 * Whether the caller holds `role` over `target`. Roles without a scope (GUARDIAN, STUDENT,
 * PORTAL_SUBSCRIBER) pass here; which pupils they may see is the owning service's check on
 * `personId`.
 */
export function hasRole(caller: Caller, role: Role, target?: ScopeTarget): boolean {
  return caller.grants.some((g) => g.role === role && covers(g, target));
}

/** Refuses with PERMISSION_DENIED unless the caller holds one of `roles` over `target`. */
export function requireRole(caller: Caller, roles: readonly Role[], target?: ScopeTarget): void {
  if (roles.some((r) => hasRole(caller, r, target))) return;
  const where = target
    ? Object.entries(target)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k.replace(/Id$/, "")} ${v}`)
        .join(", ")
    : "";
  throw new DomainError(
    "permission_denied",
    `caller: needs ${roles.join(" or ")}${where ? ` for ${where}` : ""}`,
  );
}
