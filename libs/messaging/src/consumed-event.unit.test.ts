import type { JsMsg } from "@nats-io/jetstream";
import { expect, it } from "vitest";
import { consumedEvent } from "./consumed-event.js";
import type { Envelope } from "./envelope.js";

const env: Envelope = {
  eventId: "e-1",
  type: "grades.v1.MarkRecorded",
  source: "grades",
  streamId: "course-1",
  version: 2,
  schemaVersion: 1,
  position: 10,
  checkpoint: "cp",
  time: "2026-11-28T00:00:00.000Z",
  correlationId: "c-1",
};

it("parses data on first read only, reads headers from the message, leaves absent fields out", () => {
  let headerReads = 0;
  const m = {
    data: new TextEncoder().encode("{not json"),
    subject: "p.grades.v1._._.1.MarkRecorded",
    seq: 7,
    get headers() {
      headerReads++;
      return undefined;
    },
  } as unknown as JsMsg;
  const e = consumedEvent(env, m, 1, 7);
  // not read, not parsed: a payload that is not JSON does no harm until a handler reads it
  expect(e).toMatchObject({ eventId: "e-1", streamSequence: 7, attempt: 1, correlationId: "c-1" });
  expect("causationId" in e).toBe(false);
  expect(() => e.data).toThrow(SyntaxError);
  e.data = { replaced: true };
  expect(e.data).toEqual({ replaced: true });
  expect(e.headers).toBeUndefined();
  expect(headerReads).toBe(1);
  e.attempt = 3;
  expect(e.attempt).toBe(3);

  const ok = consumedEvent(env, { ...m, data: new TextEncoder().encode('{"a":1}') } as JsMsg, 1);
  expect(ok.data).toEqual({ a: 1 });
  expect(ok.data).toBe(ok.data); // parsed once
  expect(ok.streamSequence).toBe(7);
  expect(JSON.parse(JSON.stringify(ok))).toMatchObject({ eventId: "e-1", data: { a: 1 } });
});
