import type { Role } from "@otmetka/service-kit";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";
import { type Access, COMMANDS, type CommandSpec } from "../mutations/commands.js";
import { type CommandArgs, requestOf } from "../mutations/resolvers.js";
import { grantOf } from "./matrix.js";

/*
 * The early refusals of commands: only what the gateway can tell from the token and at most
 * one lookup of a class group's or school's placement (kept for the process, placements.ts). The services check every command again with
 * the same token; this is never the only check.
 */

const ROLES: Record<Exclude<Access, "public" | "self">, readonly Role[]> = {
  journal: ["TEACHER", "SCHOOL_ADMIN", "PLATFORM_ADMIN", "SERVICE"],
  lesson: ["TEACHER", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "PLATFORM_ADMIN", "SERVICE"],
  admin: ["SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "MINISTRY_OFFICER", "PLATFORM_ADMIN", "SERVICE"],
};

const refused = (field: string) =>
  gqlError("FORBIDDEN", `${field}: the caller may not run this command here`, field);

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

async function targetOf(ctx: GatewayContext, input: Record<string, unknown>) {
  const journal = (input.journal ?? {}) as Record<string, unknown>;
  const classGroupId = str(journal.classGroupId) ?? str(input.classGroupId);
  if (classGroupId) {
    const key = `classGroup:${classGroupId}`;
    let at = ctx.placements?.get(key);
    if (!at) {
      const cg = await ctx.loaders.classGroups.load(classGroupId);
      if (!cg)
        throw gqlError("NOT_FOUND", `input: no class group ${classGroupId}`, "input.classGroupId");
      at = cg;
      ctx.placements?.set(key, cg);
    }
    return {
      field: "input.classGroupId",
      schoolId: at.schoolId,
      municipalityId: at.municipalityId,
    };
  }
  const schoolId = str(input.schoolId);
  if (schoolId) {
    const key = `school:${schoolId}`;
    let at = ctx.placements?.get(key);
    if (!at) {
      const s = await ctx.loaders.schools.load(schoolId);
      if (!s) throw gqlError("NOT_FOUND", `input: no school ${schoolId}`, "input.schoolId");
      at = s;
      ctx.placements?.set(key, s);
    }
    return { field: "input.schoolId", schoolId, municipalityId: at.municipalityId };
  }
  const municipalityId = str(input.municipalityId);
  return { field: "input", ...(municipalityId ? { municipalityId } : {}) };
}

function commandPolicy(spec: CommandSpec) {
  const { access, field } = spec;
  return async (_p: unknown, a: CommandArgs, ctx: GatewayContext) => {
    // Malformed input is refused before any lookup (the resolver reuses the request).
    requestOf(spec, a);
    if (access === "public") return "public";
    if (!ctx.caller.accountId)
      throw gqlError(
        "UNAUTHENTICATED",
        "authorization: a Bearer access token is required",
        "authorization",
      );
    if (access === "self") return "self";
    const roles = ROLES[access];
    // Without any role that could run it, nothing to look up.
    if (!ctx.caller.grants.some((g) => roles.includes(g.role))) throw refused(field);
    const target = await targetOf(ctx, a.input ?? {});
    // No target the gateway can see: the service judges the scope.
    if (!target.schoolId && !target.municipalityId)
      return grantOf(ctx.caller, roles, { regionId: ctx.regionId }) ?? "service-checks";
    const claim = grantOf(ctx.caller, roles, { ...target, regionId: ctx.regionId });
    if (!claim) throw refused(target.field);
    return claim;
  };
}

export const MUTATION_POLICIES = Object.fromEntries(
  COMMANDS.map((s) => [`Mutation.${s.field}`, commandPolicy(s)]),
);
