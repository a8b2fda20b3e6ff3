import { create, createFileRegistry, type FileRegistry } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as T,
} from "@bufbuild/protobuf/wkt";
import { buildSchema, execute, parse, printType } from "graphql";
import { createSchema } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { protoCommandSdl } from "./proto-sdl.js";

/* The SDL rules on small hand-made descriptors: every mapping the real protos do not use yet. */

const camel = (s: string) => s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
const f = (name: string, number: number, type: T, extra: Record<string, unknown> = {}) => ({
  name,
  number,
  type,
  label: Label.OPTIONAL,
  jsonName: camel(name),
  ...extra,
});
const msg = (typeName: string) => ({ typeName: `.otmetka.t.v1.${typeName}` });

function registryOf(): FileRegistry {
  const t = create(FileDescriptorProtoSchema, {
    name: "otmetka/t/v1/t.proto",
    package: "otmetka.t.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "otmetka/u/v1/u.proto"],
    messageType: [
      {
        name: "DoRequest",
        field: [
          f("command_id", 1, T.STRING),
          f("school_id", 2, T.STRING),
          f("reason", 3, T.STRING),
          f("count", 4, T.INT32),
          f("colour", 5, T.ENUM, { typeName: ".otmetka.t.v1.Colour" }),
          f("items", 6, T.MESSAGE, { ...msg("Item"), label: Label.REPEATED }),
          f("thing", 7, T.MESSAGE, msg("Thing")),
          f("tag_ids", 8, T.STRING, { label: Label.REPEATED }),
          f("ratio", 9, T.DOUBLE),
          f("on", 10, T.BOOL),
        ],
      },
      {
        name: "DoResponse",
        field: [
          f("done_at", 1, T.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
          f("colour", 2, T.ENUM, { typeName: ".otmetka.t.v1.Colour" }),
          f("note", 3, T.STRING, { oneofIndex: 0, proto3Optional: true }),
          f("a", 4, T.STRING, { oneofIndex: 1 }),
          f("b", 5, T.INT32, { oneofIndex: 1 }),
          f("total", 6, T.UINT64),
          f("thing", 7, T.MESSAGE, msg("Thing")),
          f("names", 8, T.STRING, { label: Label.REPEATED }),
          f("times", 9, T.MESSAGE, {
            typeName: ".google.protobuf.Timestamp",
            label: Label.REPEATED,
          }),
        ],
        oneofDecl: [{ name: "_note" }, { name: "choice" }],
      },
      { name: "Item", field: [f("size", 1, T.INT32)] },
      { name: "Thing", field: [f("label", 1, T.STRING)] },
      { name: "Empty" },
      { name: "Bytes", field: [f("data", 1, T.BYTES)] },
      { name: "Long", field: [f("amount", 1, T.INT64)] },
      { name: "Unsigned", field: [f("amount", 1, T.UINT32)] },
    ],
    enumType: [
      {
        name: "Colour",
        value: [
          { name: "COLOUR_UNSPECIFIED", number: 0 },
          { name: "COLOUR_RED", number: 1 },
          { name: "COLOUR_BLUE", number: 2 },
        ],
      },
    ],
    service: [
      {
        name: "TService",
        method: [
          {
            name: "Do",
            inputType: ".otmetka.t.v1.DoRequest",
            outputType: ".otmetka.t.v1.DoResponse",
          },
          { name: "Nothing", inputType: ".otmetka.t.v1.Item", outputType: ".otmetka.t.v1.Empty" },
          { name: "Blob", inputType: ".otmetka.t.v1.Bytes", outputType: ".otmetka.t.v1.Empty" },
          { name: "Idle", inputType: ".otmetka.t.v1.Empty", outputType: ".otmetka.t.v1.Empty" },
          { name: "Lend", inputType: ".otmetka.t.v1.Long", outputType: ".otmetka.t.v1.Empty" },
          { name: "Count", inputType: ".otmetka.t.v1.Item", outputType: ".otmetka.t.v1.Unsigned" },
        ],
      },
    ],
    sourceCodeInfo: {
      location: [
        { path: [6, 0, 2, 0], leadingComments: " Does it.\n Twice.\n" },
        { path: [4, 0, 2, 2], leadingComments: " Why. Required.\n" },
        { path: [4, 1, 2, 0], trailingComments: " When it was done.\n" },
        { path: [5, 0, 2, 1], leadingComments: " Red.\n" },
        { path: [4, 3], leadingComments: ' A "thing" \\ here.\n' },
      ],
    },
  });
  // Another package with a message of the same simple name.
  const u = create(FileDescriptorProtoSchema, {
    name: "otmetka/u/v1/u.proto",
    package: "otmetka.u.v1",
    syntax: "proto3",
    messageType: [{ name: "Thing", field: [f("id", 1, T.STRING)] }],
  });
  return createFileRegistry(t, (name) =>
    name === "google/protobuf/timestamp.proto"
      ? file_google_protobuf_timestamp
      : name === "otmetka/u/v1/u.proto"
        ? u
        : undefined,
  );
}

const registry = registryOf();
const method = (name: string) => {
  const m = registry.getService("otmetka.t.v1.TService")?.methods.find((x) => x.name === name);
  if (!m) throw new Error(name);
  return m;
};
const generate = (names: string[], reserved: string[] = []) =>
  protoCommandSdl(
    registry,
    names.map((n) => ({
      field: n[0]?.toLowerCase() + n.slice(1),
      method: method(n),
      doc: `${n} doc.`,
    })),
    { reserved: new Set(reserved) },
  );
const schemaOf = (sdl: string) =>
  buildSchema(`type Query { x: Int }\ntype Mutation { x: Int }\n${sdl}`);
const typeOf = (sdl: string, name: string) => {
  const t = schemaOf(sdl).getType(name);
  return t ? printType(t) : undefined;
};

describe("protoCommandSdl", () => {
  it("types a request without commandId: proto3 JSON names, ID for ids, nullable but for 'Required.'", () => {
    const { typeDefs } = generate(["Do"]);
    expect(typeOf(typeDefs, "DoInput")).toBe(
      [
        '"""',
        "do (TService Do): Does it. Twice. The proto3 JSON of otmetka.t.v1.DoRequest without commandId.",
        '"""',
        "input DoInput {",
        '  """The proto field otmetka.t.v1.DoRequest.school_id."""',
        "  schoolId: ID",
        "",
        '  """Why. Required."""',
        "  reason: String!",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.count."""',
        "  count: Int",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.colour."""',
        "  colour: ColourInput",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.items."""',
        "  items: [ItemInput!]",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.thing."""',
        "  thing: TThingInput",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.tag_ids."""',
        "  tagIds: [ID!]",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.ratio."""',
        "  ratio: Float",
        "",
        '  """The proto field otmetka.t.v1.DoRequest.on."""',
        "  on: Boolean",
        "}",
      ].join("\n"),
    );
    // Input enums leave UNSPECIFIED out; comments become descriptions (quotes kept).
    expect(typeOf(typeDefs, "ColourInput")).toBe(
      [
        '"""The proto enum otmetka.t.v1.Colour."""',
        "enum ColourInput {",
        '  """Red."""',
        "  COLOUR_RED",
        "",
        '  """otmetka.t.v1.Colour.COLOUR_BLUE (2)."""',
        "  COLOUR_BLUE",
        "}",
      ].join("\n"),
    );
    expect(typeOf(typeDefs, "ColourInput")).not.toMatch(/UNSPECIFIED/);
    expect(typeOf(typeDefs, "TThingInput")).toMatch(/^"""A "thing" \\ here."""/);
  });

  it("types a response as ts-proto decodes it: scalars, enums and lists non-null; messages, optional and oneof nullable", () => {
    const { typeDefs, objectTypes, resolvers } = generate(["Do"]);
    const payload = typeOf(typeDefs, "DoPayload") ?? "";
    const fields = Object.fromEntries(
      [...payload.matchAll(/^ {2}(\w+): (.+)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(fields).toEqual({
      doneAt: "String",
      colour: "Colour!",
      note: "String",
      a: "String",
      b: "Int",
      total: "String!",
      thing: "TThing",
      names: "[String!]!",
      times: "[String!]!",
    });
    expect(payload).toMatch(/"""When it was done\. \(RFC 3339, e\.g\. 2026-09-01T08:00:00Z\)"""/);
    // Payload enums keep every value, mapped from ts-proto's numbers.
    expect(typeOf(typeDefs, "Colour")).toMatch(/COLOUR_UNSPECIFIED/);
    expect(resolvers.Colour).toEqual({ COLOUR_UNSPECIFIED: 0, COLOUR_RED: 1, COLOUR_BLUE: 2 });
    expect(objectTypes).toEqual(["TThing", "DoPayload"]);
    // A Timestamp (ts-proto's Date) answers as RFC 3339.
    const doneAt = resolvers.DoPayload?.doneAt as (p: object) => unknown;
    expect(doneAt({ doneAt: new Date("2026-09-01T08:00:00Z") })).toBe("2026-09-01T08:00:00.000Z");
    expect(doneAt({})).toBeNull();
    // A list of them too (GraphQL's String would print a Date's epoch milliseconds).
    const times = resolvers.DoPayload?.times as (p: object) => unknown;
    expect(times({ times: [new Date("2026-09-01T08:00:00Z")] })).toEqual([
      "2026-09-01T08:00:00.000Z",
    ]);
  });

  it("answers ok: true for a response without fields", () => {
    const { typeDefs, resolvers } = generate(["Nothing"]);
    expect(typeOf(typeDefs, "NothingPayload")).toMatch(/ok: Boolean!/);
    const schema = schemaOf(typeDefs);
    expect(schema.getType("NothingInput")).toBeDefined();
    expect((resolvers.NothingPayload as { ok: () => unknown }).ok()).toBe(true);
  });

  it("prefixes a simple name that repeats among the descriptors or that the schema already defines", () => {
    expect(generate(["Do"]).typeDefs).toMatch(/input TThingInput /);
    const taken = generate(["Do"], ["ColourInput"]).typeDefs;
    expect(taken).toMatch(/enum TColourInput /);
    expect(taken).not.toMatch(/enum ColourInput /);
    // A command's own type names are fixed: taken ones are an error, never a silent merge.
    expect(() => generate(["Do"], ["DoPayload"])).toThrow(/DoPayload/);
  });

  it("refuses what it has no mapping for, naming the field", () => {
    expect(() => generate(["Blob"])).toThrow(/otmetka.t.v1.Bytes.data: bytes/);
    expect(() => generate(["Idle"])).toThrow(/otmetka.t.v1.Empty: an input without fields/);
    // commandRequest would take any string for an int64: "abc" would fail in the encoding.
    expect(() => generate(["Lend"])).toThrow(/otmetka.t.v1.Long.amount: an input 64-bit integer/);
    // GraphQL's Int ends at 2^31-1: a larger uint32 would fail the answer of a command done.
    expect(() => generate(["Count"])).toThrow(/Unsigned.amount: an unsigned 32-bit integer/);
  });

  it("a decoded response resolves through the generated resolvers (enum numbers, Date, int64 strings)", async () => {
    const { typeDefs, resolvers } = generate(["Do"]);
    const schema = createSchema({
      typeDefs: `type Query { do: DoPayload! }\ntype Mutation { x: Int }\n${typeDefs}`,
      resolvers: {
        ...resolvers,
        Query: {
          do: () => ({
            doneAt: new Date("2026-09-01T08:00:00Z"),
            colour: 2,
            total: "9007199254740993",
            names: ["x"],
            b: 3,
            times: [new Date("2026-09-02T08:00:00Z")],
          }),
        },
      },
    });
    const r = await execute({
      schema,
      document: parse("{ do { doneAt colour note a b total thing { label } names times } }"),
    });
    expect(r).toEqual({
      data: {
        do: {
          doneAt: "2026-09-01T08:00:00.000Z",
          colour: "COLOUR_BLUE",
          note: null,
          a: null,
          b: 3,
          total: "9007199254740993",
          thing: null,
          names: ["x"],
          times: ["2026-09-02T08:00:00.000Z"],
        },
      },
    });
  });
});
