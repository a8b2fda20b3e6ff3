import { bearerMetadata } from "@otmetka/service-kit";
import { GraphQLScalarType, Kind, valueFromASTUntyped } from "graphql";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";
import { COMMANDS, type CommandSpec, codecs, methodOf } from "./commands.js";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON object: a command's input or answer in the proto3 JSON mapping (camelCase fields). */
export const JSONObject = new GraphQLScalarType({
  name: "JSONObject",
  description: "A JSON object (proto3 JSON mapping: camelCase fields, enum names as strings).",
  serialize: (v) => v,
  parseValue(v) {
    if (!isPlainObject(v))
      throw gqlError("BAD_USER_INPUT", "input: must be a JSON object", "input");
    return v;
  },
  parseLiteral(ast, variables) {
    if (ast.kind !== Kind.OBJECT)
      throw gqlError("BAD_USER_INPUT", "input: must be a JSON object", "input");
    return valueFromASTUntyped(ast, variables);
  },
});

const COMMAND_ID = /^[A-Za-z0-9:_-]{1,128}$/;

export interface CommandArgs {
  commandId: string;
  input: Record<string, unknown>;
}

/** Each command's codecs and request fields, looked up once. */
const specs = new Map<
  CommandSpec,
  ReturnType<typeof codecs> & { known: Record<string, unknown> }
>();
function specOf(spec: CommandSpec) {
  let s = specs.get(spec);
  if (!s) {
    const c = codecs(spec);
    s = { ...c, known: c.request.fromPartial({}) as Record<string, unknown> };
    specs.set(spec, s);
  }
  return s;
}

// The policy (authz/mutations.ts) and the resolver get the same arguments object: the request
// is built and checked once per mutation field.
const built = new WeakMap<CommandArgs, unknown>();

/** commandRequest of a mutation field's arguments, remembered for those arguments. */
export function requestOf(spec: CommandSpec, args: CommandArgs): unknown {
  if (built.has(args)) return built.get(args);
  const req = commandRequest(spec, args.commandId, args.input);
  built.set(args, req);
  return req;
}

/**
 * The request of a command from its GraphQL arguments. Unknown fields are refused (proto's
 * fromJSON would drop them silently, and a misspelt field must not become a default value).
 */
export function commandRequest(
  spec: CommandSpec,
  commandId: string,
  input: Record<string, unknown>,
): unknown {
  if (!COMMAND_ID.test(commandId))
    throw gqlError(
      "BAD_USER_INPUT",
      "commandId: 1-128 letters, digits, ':', '_' or '-'",
      "commandId",
    );
  const { request, known } = specOf(spec);
  for (const key of Object.keys(input)) {
    if (!(key in known) || key === "commandId")
      throw gqlError("BAD_USER_INPUT", `input.${key}: not a field of ${spec.rpc}`, `input.${key}`);
  }
  let req: Record<string, unknown>;
  try {
    req = request.fromJSON(input) as Record<string, unknown>;
  } catch (err) {
    // ts-proto throws on an unknown enum name.
    throw gqlError("BAD_USER_INPUT", `input: ${(err as Error).message}`, "input");
  }
  // ts-proto maps an unknown enum name or number to UNRECOGNIZED (-1) instead of throwing. The
  // path is looked for (a toJSON of the whole request) only when some field holds -1.
  const unknownEnum = holds(req, -1) ? pathOf(request.toJSON(req), "UNRECOGNIZED") : undefined;
  if (unknownEnum)
    throw gqlError(
      "BAD_USER_INPUT",
      `input.${unknownEnum}: not one of its values`,
      `input.${unknownEnum}`,
    );
  if ("commandId" in known) req.commandId = commandId;
  return req;
}

/** Whether `needle` occurs anywhere in a value (objects and arrays walked). */
function holds(v: unknown, needle: unknown): boolean {
  if (v === needle) return true;
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) return v.some((x) => holds(x, needle));
  for (const k in v) if (holds((v as Record<string, unknown>)[k], needle)) return true;
  return false;
}

/** The dotted path of the first occurrence of `needle` in a JSON value. */
function pathOf(v: unknown, needle: string): string | undefined {
  if (v === needle) return "";
  if (typeof v !== "object" || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const p = pathOf(x, needle);
    if (p !== undefined) return p === "" ? k : `${k}.${p}`;
  }
  return undefined;
}

type Call = (req: unknown, md?: unknown) => Promise<unknown>;

function mutationResolver(spec: CommandSpec) {
  const { response } = codecs(spec);
  return async (_p: unknown, a: CommandArgs, ctx: GatewayContext) => {
    const req = requestOf(spec, a);
    const client = ctx.backends?.[spec.service] as Record<string, Call> | undefined;
    const call = client?.[methodOf(spec)];
    if (!client || !call)
      throw gqlError("UNAVAILABLE", `${spec.field}: ${spec.service} is not connected`);
    // The caller's own token: the service checks scope again (never a service token).
    const res = ctx.caller.token
      ? await call.call(client, req, bearerMetadata(ctx.caller.token))
      : await call.call(client, req);
    return response.toJSON(res) ?? {};
  };
}

export const mutationResolvers = Object.fromEntries(
  COMMANDS.map((spec) => [spec.field, mutationResolver(spec)]),
);

/** The Mutation type's SDL, one field per command. */
export const mutationTypeDefs = `
"""A JSON object (proto3 JSON mapping: camelCase fields, enum names as strings)."""
scalar JSONObject

"""Commands, forwarded to the owning service with the caller's token. Each takes a commandId: retrying with the same id replays the first answer."""
type Mutation {
${COMMANDS.map(
  (s) =>
    `  """${s.doc} (${s.service} ${s.rpc}; input: ${s.rpc}Request without commandId)"""\n  ${s.field}(commandId: ID!, input: JSONObject!): JSONObject!`,
).join("\n")}
}
`;
