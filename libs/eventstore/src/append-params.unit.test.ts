import { describe, expect, it } from "vitest";
import { toAppendParams } from "./append-params.js";
import { chunkAppends, copyTextField } from "./bulk-chunks.js";

describe("append params", () => {
  it("lays out events as column arrays with 1-based stream indexes", () => {
    const p = toAppendParams([
      { streamId: "a", expected: "any", events: [{ type: "X", data: { n: 1 } }] },
      {
        streamId: "b",
        expected: 3,
        events: [
          { type: "Y", data: [1], schemaVersion: 2, metadata: { correlationId: "c" } },
          { type: "Z", data: null, eventId: "01900000-0000-7000-8000-00000000000a" },
        ],
      },
    ]);
    expect(p.streamIds).toEqual(["a", "b"]);
    expect(p.expected).toEqual([-1, 3]);
    expect(p.eventStreams).toEqual([1, 2, 2]);
    expect(p.types).toEqual(["X", "Y", "Z"]);
    expect(p.schemaVersions).toEqual([1, 2, 1]);
    expect(p.data).toEqual(['{"n":1}', "[1]", "null"]);
    expect(p.metadata).toEqual(["{}", '{"correlationId":"c"}', "{}"]);
    expect(p.eventIds[2]).toBe("01900000-0000-7000-8000-00000000000a");
    expect(p.eventIds[0]).toMatch(/^[0-9a-f-]{14}7/);
    expect(new Set(p.eventIds).size).toBe(3);
  });

  it("refuses undefined data and bad schema versions, naming the event", () => {
    expect(() =>
      toAppendParams([
        { streamId: "a", expected: "any", events: [{ type: "X", data: undefined }] },
      ]),
    ).toThrow(/^appends\[0\]\.events\[0\]\.data:/);
    expect(() =>
      toAppendParams([
        { streamId: "a", expected: "any", events: [{ type: "X", data: 1, schemaVersion: 0 }] },
      ]),
    ).toThrow(/schemaVersion/);
  });
});

describe("bulk chunks", () => {
  const a = (id: string, n: number) => ({
    streamId: id,
    expected: "any" as const,
    events: Array.from({ length: n }, () => ({ type: "E", data: {} })),
  });

  it("packs whole streams into chunks of about maxEvents", () => {
    const chunks = chunkAppends([a("1", 3), a("2", 3), a("3", 3), a("4", 10), a("5", 1)], 6);
    expect(chunks.map((c) => c.map((x) => x.streamId))).toEqual([["1", "2"], ["3"], ["4"], ["5"]]);
    expect(chunkAppends([], 10)).toEqual([]);
  });

  it("escapes COPY text specials", () => {
    expect(copyTextField('{"a":"x\\\\ny"}')).toBe('{"a":"x\\\\\\\\ny"}');
    expect(copyTextField("a\tb\nc\rd")).toBe("a\\tb\\nc\\rd");
  });
});
