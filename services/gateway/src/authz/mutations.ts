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

interface Target {
  /** The input's path named by a refusal. */
  field: string;
  schoolId?: string;
  municipalityId?: string;
}

/** A class group's or school's placement, looked up once per process (placements.ts). */
async function placed(
  ctx: GatewayContext,
  kind: "class group" | "school",
  id: string,
  field: string,
): Promise<Target> {
  const key = `${kind === "school" ? "school" : "classGroup"}:${id}`;
  let at = ctx.placements?.get(key);
  if (!at) {
    const found =
      kind === "school"
        ? await ctx.loaders.schools.load(id)
        : await ctx.loaders.classGroups.load(id);
    if (!found) throw gqlError("NOT_FOUND", `${field}: no ${kind} ${id}`, field);
    at = found;
    ctx.placements?.set(key, found);
  }
  return { field, schoolId: at.schoolId, municipalityId: at.municipalityId };
}

/**
 * Every class group and school the input names (a journal's class group, a transfer's
 * receiving one, each of a batch's `classGroupIds`, the school), each of which the caller's
 * grants must cover: one out of scope refuses the command, whatever the others are. A
 * municipality only when nothing narrower is named (a school's own `municipalityId` beside it
 * is the service's to check against the school).
 */
async function targetsOf(ctx: GatewayContext, input: Record<string, unknown>): Promise<Target[]> {
  const journal = (input.journal ?? {}) as Record<string, unknown>;
  const named: [kind: "class group" | "school", id: string, field: string][] = [];
  // A journal's class group is named input.classGroupId, as it always was.
  for (const [v, field] of [
    [journal.classGroupId, "input.classGroupId"],
    [input.classGroupId, "input.classGroupId"],
    [input.toClassGroupId, "input.toClassGroupId"],
  ] as const) {
    const id = str(v);
    if (id) named.push(["class group", id, field]);
  }
  if (Array.isArray(input.classGroupIds))
    input.classGroupIds.forEach((v, i) => {
      const id = str(v);
      if (id) named.push(["class group", id, `input.classGroupIds[${i}]`]);
    });
  const schoolId = str(input.schoolId);
  if (schoolId) named.push(["school", schoolId, "input.schoolId"]);
  if (named.length > 0)
    return Promise.all(named.map(([kind, id, field]) => placed(ctx, kind, id, field)));
  const municipalityId = str(input.municipalityId);
  return [{ field: "input", ...(municipalityId ? { municipalityId } : {}) }];
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
    const targets = await targetsOf(ctx, a.input ?? {});
    let claim: string | undefined;
    for (const { field: at, ...target } of targets) {
      // No target the gateway can see: the service judges the scope.
      if (!target.schoolId && !target.municipalityId)
        return grantOf(ctx.caller, roles, { regionId: ctx.regionId }) ?? "service-checks";
      const covered = grantOf(ctx.caller, roles, { ...target, regionId: ctx.regionId });
      if (!covered) throw refused(at);
      claim ??= covered;
    }
    return claim;
  };
}

export const MUTATION_POLICIES = Object.fromEntries(
  COMMANDS.map((s) => [`Mutation.${s.field}`, commandPolicy(s)]),
);
