import { Kind, parse } from "graphql";
import { createSchema } from "graphql-yoga";
import { applyPolicies } from "../authz/apply.js";
import type { GatewayContext } from "../context.js";
import { mutationTypeDefs } from "../mutations/resolvers.js";
import { resolvers } from "../resolvers/index.js";
import { subscriptionTypeDefs } from "../subscriptions/resolvers.js";
import { queryTypeDefs } from "./type-defs.js";

/** The whole SDL: queries, commands (hand-written and generated from the protos), subscriptions. */
export const typeDefs = `${queryTypeDefs}${mutationTypeDefs}${subscriptionTypeDefs}`;

/** Refuses a type defined twice (createSchema would merge the two definitions silently). */
export function assertDefinedOnce(sdl: string): void {
  const seen = new Set<string>();
  for (const d of parse(sdl).definitions) {
    if (d.kind === Kind.SCHEMA_DEFINITION || !("name" in d) || !d.name) continue;
    if (d.kind.endsWith("Extension")) continue;
    if (seen.has(d.name.value)) throw new Error(`GraphQL type ${d.name.value} is defined twice`);
    seen.add(d.name.value);
  }
}

/** The executable schema with every field behind its policy. */
export function buildSchema() {
  assertDefinedOnce(typeDefs);
  return applyPolicies(createSchema<GatewayContext>({ typeDefs, resolvers }));
}
