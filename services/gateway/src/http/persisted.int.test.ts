import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

/* GRAPHQL_PERSISTED_ONLY=true: only documents of the persisted-operations file run. */

const ME = "query Me { me { accountId } }";
const hash = createHash("sha256").update(ME).digest("hex");

describe("persisted operations only", () => {
  let h: GatewayHarness;
  let token: string;
  beforeAll(async () => {
    h = await startGatewayHarness({ persistedOnly: true, persistedOperations: { [hash]: ME } });
    token = await h.token(["STUDENT"], F.p1);
  });
  afterAll(() => h?.close());

  const post = (body: unknown) =>
    h.fetch({
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it("runs a persisted operation by its hash", async () => {
    const a = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(a.status).toBe(200);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data).toMatchObject({ me: { accountId: expect.any(String) } });
  });

  it("refuses any other document and unknown hashes with a typed error, not a 500", async () => {
    for (const body of [
      { query: ME },
      { query: `{ person(id: "${F.p1}") { name } }` },
      { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } },
    ]) {
      h.fakes.reset();
      const a = await post(body);
      expect(a.status).toBeLessThan(500);
      expect(a.body.data ?? null).toBeNull();
      expect(a.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(h.fakes.totalCalls()).toBe(0);
    }
  });
});
