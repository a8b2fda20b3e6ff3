import { createSchema } from "graphql-yoga";
import { applyPolicies } from "../authz/apply.js";
import type { GatewayContext } from "../context.js";
import { resolvers } from "../resolvers/index.js";
import { typeDefs } from "./type-defs.js";

/** The executable schema with every field behind its policy. */
export function buildSchema() {
  return applyPolicies(createSchema<GatewayContext>({ typeDefs, resolvers }));
}
