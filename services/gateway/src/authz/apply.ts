import { defaultFieldResolver, type GraphQLSchema, isObjectType } from "graphql";
import type { GatewayContext } from "../context.js";
import { recheckContext, whileAllowed } from "../subscriptions/while-allowed.js";
import { FIELD_POLICIES, INHERITING_TYPES } from "./policies.js";

/**
 * Wraps every field resolver of the schema with its policy, so no resolver can be reached
 * without the matrix. Root fields without a policy are refused at start-up: a new root field
 * must be given one.
 */
export function applyPolicies(schema: GraphQLSchema): GraphQLSchema {
  const subscription = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      const policy = FIELD_POLICIES[key];
      if (!policy) {
        if (!INHERITING_TYPES.has(type.name)) throw new Error(`no authorization policy for ${key}`);
        continue;
      }
      const subscribe = field.subscribe;
      if (type === subscription && subscribe) {
        // Authorized when it opens and again before each notice, with the facts of then
        // (while-allowed.ts): its resolve maps a notice already checked, once per event. A
        // change notice says that something changed, not what: no pupil's data to audit.
        field.subscribe = async (parent, args, ctx: GatewayContext, info) => {
          await policy(parent, args, ctx);
          const fresh = recheckContext(ctx);
          const stream = await subscribe(parent, args, ctx, info);
          return whileAllowed(
            stream as AsyncIterator<unknown>,
            () => policy(parent, args, fresh()),
            ctx.logger,
          );
        };
        continue;
      }
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = async (parent, args, ctx: GatewayContext, info) => {
        const allowed = await policy(parent, args, ctx);
        const claim = typeof allowed === "object" ? allowed.claim : allowed;
        if (claim) ctx.claims.set(info.path, claim);
        // Noted before the resolver runs, recorded only if the answer holds the field (gateway.ts).
        if (typeof allowed === "object") ctx.audit.add(info.path, allowed.pupils, allowed.claim);
        return resolve(parent, args, ctx, info);
      };
    }
  }
  return schema;
}
