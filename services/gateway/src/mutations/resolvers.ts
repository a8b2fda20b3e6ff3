import { bearerMetadata } from "@otmetka/service-kit";
import { GraphQLScalarType, Kind, valueFromASTUntyped } from "graphql";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";
import { COMMANDS, type CommandSpec, codecs, methodOf } from "./commands.js";
import {
  adminCommandTypeDefs,
  inputTypeOf,
  JOURNAL_COMMANDS,
  payloadTypeOf,
  typedCommandTypeDefs,
} from "./typed.js";

const JSON_OBJECT_DOC =
  "A JSON object. No command takes it any more: declare a command's variable as its <Field>Input type.";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The commands' former input and answer type. No field takes it any more: it stays so that an
 * old client's `$i: JSONObject!` variable is refused naming the input type it needs.
 */
export const JSONObject = new GraphQLScalarType({
  name: "JSONObject",
  description: JSON_OBJECT_DOC,
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
  // ts-proto's fromJSON reads a message out of every list element: a null one would throw.
  const nullAt = nullInList(input, "input");
  if (nullAt) throw badInput(nullAt, "must not be null");
  let req: Record<string, unknown>;
  try {
    req = request.fromJSON(input) as Record<string, unknown>;
  } catch {
    throw gqlError("BAD_USER_INPUT", `input: not a ${spec.rpc} request`, "input");
  }
  // fromJSON coerces what it is given (String({}) is "[object Object]", Number("x") is NaN, a
  // string where a message belongs is an empty message) and skips unknown nested fields: the
  // input is checked against the request it became, so nothing slips through as a default.
  for (const key of Object.keys(input)) checkShape(input[key], req[key], `input.${key}`);
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

/** Longest string a command field takes: longer ones are no school's text, and a service
 * echoing one in its error message would exceed the gRPC trailer's size. */
export const MAX_INPUT_STRING = 10_000;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const badInput = (path: string, what: string) =>
  gqlError("BAD_USER_INPUT", `${path}: ${what}`, path);

/** The path of the first null element of a list anywhere in `v`. */
function nullInList(v: unknown, path: string): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] === null) return `${path}[${i}]`;
      const p = nullInList(v[i], `${path}[${i}]`);
      if (p) return p;
    }
  } else if (isPlainObject(v)) {
    for (const k in v) {
      const p = nullInList(v[k], `${path}.${k}`);
      if (p) return p;
    }
  }
  return undefined;
}

/**
 * Refuses what proto3 JSON does not allow for the field `built` came from (the field's value in
 * the request fromJSON made): another JSON type, an unknown (or snake_case) nested field, a
 * number no int32 holds, a string too long or with a NUL (PostgreSQL text cannot hold one).
 * Enum values are numbers in `built`; unknown names are found later (UNRECOGNIZED).
 */
function checkShape(raw: unknown, built: unknown, path: string): void {
  // proto3 JSON: null is the field's default.
  if (raw === null || raw === undefined) return;
  if (typeof built === "string") {
    if (typeof raw !== "string") throw badInput(path, "must be a string");
    if (raw.length > MAX_INPUT_STRING)
      throw badInput(path, `must be at most ${MAX_INPUT_STRING} characters`);
    if (raw.includes("\u0000")) throw badInput(path, "must not contain NUL characters");
    return;
  }
  if (typeof built === "number") {
    if (typeof raw !== "number" && typeof raw !== "string")
      throw badInput(path, "must be a number (or, for an enum, one of its names)");
    if (!Number.isInteger(built) || built < INT32_MIN || built > INT32_MAX)
      throw badInput(path, `must be a whole number from ${INT32_MIN} to ${INT32_MAX}`);
    return;
  }
  if (typeof built === "boolean") {
    if (typeof raw !== "boolean") throw badInput(path, "must be true or false");
    return;
  }
  if (Array.isArray(built)) {
    if (!Array.isArray(raw)) throw badInput(path, "must be a list");
    for (let i = 0; i < raw.length; i++) checkShape(raw[i], built[i], `${path}[${i}]`);
    return;
  }
  if (isPlainObject(built)) {
    if (!isPlainObject(raw)) throw badInput(path, "must be an object");
    for (const key of Object.keys(raw)) {
      if (!(key in built)) throw badInput(`${path}.${key}`, "not a field of this message");
      checkShape(raw[key], built[key], `${path}.${key}`);
    }
  }
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
  // The payload is the decoded response itself (defaults present): its type's fields are the
  // response's (typed.ts, proto-sdl.ts).
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
    return res;
  };
}

export const mutationResolvers = Object.fromEntries(
  COMMANDS.map((spec) => [spec.field, mutationResolver(spec)]),
);

/** The Mutation type's SDL, one field per command. */
export const mutationTypeDefs = `
"""${JSON_OBJECT_DOC}"""
scalar JSONObject
${typedCommandTypeDefs}
${adminCommandTypeDefs}

"""Commands, forwarded to the owning service with the caller's token. Each takes a commandId: retrying with the same id replays the first answer."""
type Mutation {
${COMMANDS.map(
  (s) =>
    `  """${s.doc} (${s.service} ${s.rpc}${JOURNAL_COMMANDS.has(s.field) ? "" : `; input: ${s.rpc}Request without commandId, typed from the proto`})"""\n  ${s.field}(commandId: ID!, input: ${inputTypeOf(s.field)}!): ${payloadTypeOf(s.field)}!`,
).join("\n")}
}
`;
