import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";
import { id } from "./inputs.js";

/**
 * A subgroup named beside its class group and subject (the journal query, its
 * subscription): the caller was authorized for the class group's journal in that subject,
 * so a subgroup of anything else is NOT_FOUND rather than another journal reached through
 * this one. Answers the checked id.
 */
export async function subgroupOf(
  ctx: GatewayContext,
  classGroupId: string,
  subjectId: string,
  raw: string,
): Promise<string> {
  const subgroupId = id("subgroupId", raw);
  const s = await ctx.loaders.subgroups.load(subgroupId);
  if (s.classGroupId !== classGroupId || s.subjectId !== subjectId)
    throw gqlError(
      "NOT_FOUND",
      `subgroupId: no subgroup ${subgroupId} of class group ${classGroupId} in subject ${subjectId}`,
      "subgroupId",
    );
  return subgroupId;
}
