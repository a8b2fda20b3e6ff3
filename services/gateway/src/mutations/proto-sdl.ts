import {
  type DescEnum,
  type DescEnumValue,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type Registry,
  ScalarType,
} from "@bufbuild/protobuf";

/*
 * GraphQL input and payload types of gRPC commands, derived from the protos' descriptors (the
 * one source of truth), so that they cannot drift from the services' messages. Pure: the
 * descriptors in, SDL and the resolvers its payloads need out. Rules (README "The
 * administrative commands are typed"):
 * - `<Field>Input` is the command's request minus `command_id`, `<Field>Payload` its response;
 *   nested messages and enums are their own types, named after the proto's (inputs with
 *   `Input`), prefixed by their package (`Identity`, `CurriculumEvents`) where a simple name
 *   repeats among the descriptors or the rest of the schema already defines it.
 * - field names are proto3 JSON's (what ts-proto's fromJSON takes and its decoded messages
 *   hold); string → String (ID for `*_id`, `*_ids`), 32-bit integers → Int, 64-bit → String
 *   (ts-proto forceLong=string), float and double → Float, bool → Boolean, enums → enums of the
 *   proto value names (inputs without `*_UNSPECIFIED`), google.protobuf.Timestamp in a payload →
 *   String (RFC 3339); bytes, maps, other well-known types and a Timestamp in an input are
 *   refused with an error at schema build (extend this, and commandRequest's checks, first).
 * - inputs: every field nullable (proto3 fields are all optional in proto3 JSON; the service
 *   answers a missing one with its own typed error) except a field whose proto comment has the
 *   sentence "Required.": then the service refuses its absence always, and GraphQL does first.
 * - payloads: scalars, enums and lists non-null (ts-proto decodes their defaults), message,
 *   `optional` and oneof fields nullable; a response without fields answers `ok: true`.
 * - descriptions: the proto comments, else the command's doc and the proto names.
 */

export interface ProtoCommand {
  /** The GraphQL mutation field. */
  field: string;
  method: DescMethod;
  /** One line about the command, used where its proto has no comment. */
  doc: string;
}

export interface ProtoSdlOptions {
  /** Type names the rest of the schema defines: no generated type takes one. */
  reserved: ReadonlySet<string>;
  /** Input types the rest of the schema already defines for a proto message (full name). */
  reuseInputs?: ReadonlyMap<string, string>;
}

export interface ProtoSdl {
  typeDefs: string;
  /** Every object type defined (payloads and the messages in them). */
  objectTypes: string[];
  /** Payload resolvers: enum values (ts-proto's numbers), `ok`, Timestamps as RFC 3339. */
  resolvers: Record<string, Record<string, unknown>>;
}

const pascal = (s: string) => (s[0]?.toUpperCase() ?? "") + s.slice(1);
export const commandInputType = (field: string) => `${pascal(field)}Input`;
export const commandPayloadType = (field: string) => `${pascal(field)}Payload`;

const TIMESTAMP = "google.protobuf.Timestamp";
const REQUIRED = /(^|[.;:!?]\s+)Required\.(\s|$)/;

/** The source path of a descriptor in its file (descriptor.proto's field numbers). */
function pathOf(d: DescMessage | DescEnum): number[] {
  if (d.kind === "message")
    return d.parent
      ? [...pathOf(d.parent), 3, d.parent.nestedMessages.indexOf(d)]
      : [4, d.file.messages.indexOf(d)];
  return d.parent
    ? [...pathOf(d.parent), 4, d.parent.nestedEnums.indexOf(d)]
    : [5, d.file.enums.indexOf(d)];
}

const commentCache = new WeakMap<DescFile, Map<string, string>>();
/** The leading (else trailing) comment at a source path, lines joined; "" without one. */
function commentAt(file: DescFile, path: number[]): string {
  let byPath = commentCache.get(file);
  if (!byPath) {
    byPath = new Map();
    for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
      const text = (loc.leadingComments || loc.trailingComments)
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .join(" ");
      if (text) byPath.set(loc.path.join(","), text);
    }
    commentCache.set(file, byPath);
  }
  return byPath.get(path.join(",")) ?? "";
}

const typeComment = (d: DescMessage | DescEnum) => commentAt(d.file, pathOf(d));
const fieldComment = (f: DescField) =>
  commentAt(f.parent.file, [...pathOf(f.parent), 2, f.parent.proto.field.indexOf(f.proto)]);
const valueComment = (v: DescEnumValue) =>
  commentAt(v.parent.file, [...pathOf(v.parent), 2, v.parent.proto.value.indexOf(v.proto)]);
const methodComment = (m: DescMethod) =>
  commentAt(m.parent.file, [
    6,
    m.parent.file.services.indexOf(m.parent),
    2,
    m.parent.methods.indexOf(m),
  ]);

/** A GraphQL string literal (JSON's escapes are GraphQL's). */
const str = (s: string) => JSON.stringify(s);

/** `otmetka.curriculum.events.v1` → `CurriculumEvents` (the version and the root dropped). */
const packagePrefix = (pkg: string) =>
  pkg
    .split(".")
    .filter((p, i) => !(i === 0 && p === "otmetka") && !/^v\d+/.test(p))
    .map(pascal)
    .join("");

/** A message's or enum's name within its package, nested names joined (`OuterInner`). */
const simpleName = (d: DescMessage | DescEnum) =>
  d.typeName.slice(d.file.proto.package ? d.file.proto.package.length + 1 : 0).replace(/\./g, "");

type Mode = "in" | "out";

/** ts-proto's Timestamp is a Date; GraphQL's String would print its epoch milliseconds. */
const rfc3339 = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null));

export function protoCommandSdl(
  registry: Registry,
  commands: readonly ProtoCommand[],
  options: ProtoSdlOptions,
): ProtoSdl {
  // Simple names that occur more than once among all the descriptors: those get a prefix.
  const seen = new Map<string, number>();
  for (const t of registry)
    if (t.kind === "message" || t.kind === "enum")
      seen.set(simpleName(t), (seen.get(simpleName(t)) ?? 0) + 1);

  const defs: string[] = [];
  const objectTypes: string[] = [];
  const resolvers: Record<string, Record<string, unknown>> = {};
  const named = new Map<string, string>(); // "in:otmetka.x.v1.Foo" -> GraphQL name
  const taken = new Map<string, string>(); // GraphQL name -> what took it

  const take = (name: string, by: string) => {
    const other = taken.get(name);
    if ((other && other !== by) || options.reserved.has(name))
      throw new Error(`GraphQL type ${name} (${by}) is defined twice`);
    taken.set(name, by);
    return name;
  };

  const typeName = (d: DescMessage | DescEnum, mode: Mode) => {
    const key = `${mode}:${d.typeName}`;
    const known = named.get(key);
    if (known) return known;
    const base = simpleName(d);
    const suffix = mode === "in" && !base.endsWith("Input") ? "Input" : "";
    let name = `${base}${suffix}`;
    if ((seen.get(base) ?? 0) > 1 || options.reserved.has(name) || taken.has(name))
      name = `${packagePrefix(d.file.proto.package)}${name}`;
    take(name, key);
    named.set(key, name);
    if (d.kind === "enum") defineEnum(d, name, mode);
    else defineMessage(d, name, mode, typeComment(d) || `The proto message ${d.typeName}.`);
    return name;
  };

  const unsupported = (f: DescField, what: string) =>
    new Error(`${f.parent.typeName}.${f.name}: ${what} has no GraphQL mapping here (proto-sdl.ts)`);

  const scalarOf = (f: DescField, scalar: ScalarType, list: boolean, mode: Mode) => {
    switch (scalar) {
      case ScalarType.STRING:
        return (list ? /_ids$/ : /_id$/).test(f.name) ? "ID" : "String";
      case ScalarType.BOOL:
        return "Boolean";
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return "Int";
      // GraphQL's Int stops at 2^31-1: a larger value would fail the answer of a command done.
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        throw unsupported(f, "an unsigned 32-bit integer");
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        // ts-proto's int64 is a string (forceLong=string); commandRequest's checks take any
        // string there, so "abc" would fail in the gRPC encoding, not as BAD_USER_INPUT.
        if (mode === "in") throw unsupported(f, "an input 64-bit integer");
        return "String";
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return "Float";
      default:
        throw unsupported(f, "bytes");
    }
  };

  const messageType = (f: DescField, m: DescMessage, mode: Mode) => {
    if (m.typeName === TIMESTAMP) {
      // commandRequest's checks know no Date (what ts-proto's fromJSON makes of one): extend
      // them before a command takes a time.
      if (mode === "in") throw unsupported(f, "an input Timestamp");
      return "String";
    }
    if (m.file.proto.package.startsWith("google.")) throw unsupported(f, m.typeName);
    const reused = mode === "in" ? options.reuseInputs?.get(m.typeName) : undefined;
    return reused ?? typeName(m, mode);
  };

  /** The field's GraphQL type, without the outer `!`. */
  const fieldType = (f: DescField, mode: Mode): string => {
    switch (f.fieldKind) {
      case "scalar":
        return scalarOf(f, f.scalar, false, mode);
      case "enum":
        return typeName(f.enum, mode);
      case "message":
        return messageType(f, f.message, mode);
      case "list": {
        const item =
          f.listKind === "scalar"
            ? scalarOf(f, f.scalar, true, mode)
            : f.listKind === "enum"
              ? typeName(f.enum, mode)
              : messageType(f, f.message, mode);
        return `[${item}!]`;
      }
      default:
        throw unsupported(f, "a map");
    }
  };

  const nonNull = (f: DescField, mode: Mode, comment: string) => {
    if (mode === "in") return REQUIRED.test(comment);
    if (f.fieldKind === "message" || f.oneof || f.proto.proto3Optional) return false;
    return true;
  };

  function defineMessage(
    m: DescMessage,
    name: string,
    mode: Mode,
    description: string,
    omit: ReadonlySet<string> = new Set(),
  ) {
    const lines: string[] = [];
    const timestamps: string[] = [];
    for (const f of m.fields) {
      if (omit.has(f.name)) continue;
      const comment = fieldComment(f);
      const type = fieldType(f, mode);
      const isTime =
        (f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")) &&
        f.message.typeName === TIMESTAMP;
      if (isTime && mode === "out") timestamps.push(f.jsonName);
      const desc = [comment || `The proto field ${m.typeName}.${f.name}.`];
      if (isTime) desc.push("(RFC 3339, e.g. 2026-09-01T08:00:00Z)");
      lines.push(
        `  ${str(desc.join(" "))}\n  ${f.jsonName}: ${type}${nonNull(f, mode, comment) ? "!" : ""}`,
      );
    }
    if (lines.length === 0) {
      if (mode === "in") throw new Error(`${m.typeName}: an input without fields`);
      lines.push(
        `  ${str(`Always true: the command was done (${m.typeName} has no fields; a refusal is an error).`)}\n  ok: Boolean!`,
      );
      resolvers[name] = { ok: () => true };
    }
    if (timestamps.length) {
      const own = resolvers[name] ?? {};
      for (const t of timestamps)
        own[t] = (p: Record<string, unknown>) => {
          const v = p[t];
          return Array.isArray(v) ? v.map(rfc3339) : rfc3339(v);
        };
      resolvers[name] = own;
    }
    if (mode === "out") objectTypes.push(name);
    defs.push(
      `${str(description)}\n${mode === "in" ? "input" : "type"} ${name} {\n${lines.join("\n")}\n}`,
    );
  }

  function defineEnum(e: DescEnum, name: string, mode: Mode) {
    // An input never takes UNSPECIFIED (proto3's "not set"): leaving the field out is that.
    const values = e.values.filter(
      (v) => !(mode === "in" && v.number === 0 && /_UNSPECIFIED$/.test(v.name)),
    );
    const lines = values.map(
      (v) => `  ${str(valueComment(v) || `${e.typeName}.${v.name} (${v.number}).`)}\n  ${v.name}`,
    );
    // ts-proto decodes enums to numbers: a payload's enum maps them to the value names.
    if (mode === "out") resolvers[name] = Object.fromEntries(values.map((v) => [v.name, v.number]));
    defs.push(
      `${str(typeComment(e) || `The proto enum ${e.typeName}.`)}\nenum ${name} {\n${lines.join("\n")}\n}`,
    );
  }

  for (const c of commands) {
    const { method } = c;
    const rpc = `${method.parent.name} ${method.name}`;
    const about = methodComment(method) || c.doc;
    const input = take(commandInputType(c.field), c.field);
    defineMessage(
      method.input,
      input,
      "in",
      [
        `${c.field} (${rpc}): ${about}`,
        `The proto3 JSON of ${method.input.typeName} without commandId.`,
        typeComment(method.input),
      ]
        .filter(Boolean)
        .join(" "),
      new Set(["command_id"]),
    );
    const payload = take(commandPayloadType(c.field), c.field);
    defineMessage(
      method.output,
      payload,
      "out",
      [`${c.field}'s answer (${method.output.typeName}).`, typeComment(method.output)]
        .filter(Boolean)
        .join(" "),
    );
  }
  return { typeDefs: defs.join("\n\n"), objectTypes, resolvers };
}
