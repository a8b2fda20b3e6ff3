import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

/* The body-size limit (body-limit.ts) in place of yoga's: by Content-Length, or counted. */

const LIMIT = 2000;

describe("request body limit", () => {
  let h: GatewayHarness;
  let token: string;
  beforeAll(async () => {
    h = await startGatewayHarness({ maxBodyBytes: LIMIT });
    token = await h.token(["STUDENT"], F.p1);
  });
  afterAll(() => h?.close());

  const me = (pad: number) =>
    JSON.stringify({ query: `query Me { me { accountId } }${" ".repeat(pad)}` });
  const headers = (extra: Record<string, string> = {}) => ({
    "content-type": "application/json",
    authorization: `Bearer ${token}`,
    ...extra,
  });
  /** A body without a length, in chunks (as a chunked upload arrives). */
  const chunked = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 500) c.enqueue(bytes.slice(i, i + 500));
        c.close();
      },
    });
  };
  const post = (body: BodyInit, extra?: Record<string, string>) =>
    h.fetch({ method: "POST", headers: headers(extra), body, duplex: "half" } as RequestInit);

  it("answers a body within the limit, with or without a Content-Length", async () => {
    const text = me(LIMIT - 100);
    for (const a of [
      await post(text, { "content-length": String(Buffer.byteLength(text)) }),
      await post(chunked(text)),
    ]) {
      expect(a.status).toBe(200);
      expect(a.body.errors).toBeUndefined();
      expect(a.body.data).toMatchObject({ me: { accountId: expect.any(String) } });
    }
  });

  it("refuses a larger body by its Content-Length, and one without a length once counted", async () => {
    const text = me(LIMIT);
    h.fakes.reset();
    for (const a of [
      await post(text, { "content-length": String(Buffer.byteLength(text)) }),
      await post(chunked(text)),
    ]) {
      expect(a.status).toBe(413);
      expect(a.body.data ?? null).toBeNull();
      expect(a.body.errors?.[0]?.extensions?.code).toBe("REQUEST_ENTITY_TOO_LARGE");
    }
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("refuses a Content-Length that is not one non-negative integer", async () => {
    for (const length of ["10, 10", "-1", "abc"]) {
      const a = await post(me(0), { "content-length": length });
      expect(a.status).toBe(400);
      expect(a.body.data ?? null).toBeNull();
    }
  });
});
