import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  messagingNames,
  openRevocationsBucket,
  type RevocationList,
  type RevocationsBucket,
  revokeAccess,
  revokeSession,
  watchRevocations,
} from "@otmetka/messaging";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoticeHub } from "../subscriptions/notices.js";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { bearer, connectWs } from "../test-support/ws-client.js";

/*
 * Identity's revocation list on the real NATS KV bucket: a token issued no later than its
 * account's revocation is refused at once, over HTTP and WebSocket; a token issued after it
 * (a refresh, a new login) and other accounts' tokens are not.
 */
const env = useTestEnvironment({ label: "gateway_revocations" });

const subjectOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")).sub as string;

const QUERY = `{ dashboard(scope: { schoolId: "${F.s1}" }, period: { term: 1, academicYear: ${F.year} }) { passRate { value } } }`;

describe("revoked access tokens", () => {
  let nc: NatsConnection;
  let h: GatewayHarness;
  let list: RevocationList;
  let revoke: (token: string, at: number) => Promise<unknown>;
  let kv: RevocationsBucket;
  const hub = new NoticeHub();

  beforeAll(async () => {
    nc = await connect({ servers: env.natsUrl });
    kv = await openRevocationsBucket(nc, messagingNames(env.natsPrefix));
    list = await watchRevocations(kv);
    revoke = (token, at) =>
      revokeAccess(kv, subjectOf(token), { revokedAt: at, reason: "disabled" });
    h = await startGatewayHarness({ revocations: list, notices: hub });
  });
  afterAll(async () => {
    list?.stop();
    await h?.close();
    await nc?.close();
  });

  /** Until the watch has seen the account's revocation (milliseconds). */
  const seen = async (token: string) => {
    await expect.poll(() => list.revokedAt(subjectOf(token)), { timeout: 5000 }).toBeDefined();
  };

  it("refuses a token issued before its account's revocation, with UNAUTHENTICATED naming authorization", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const other = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    expect((await h.query(admin, QUERY)).body.errors).toBeUndefined();
    // Revoked a second from now: the token (iat now, whole seconds) was issued before.
    await revoke(admin, Date.now() + 1000);
    await seen(admin);
    const refused = await h.query(admin, QUERY);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      field: "authorization",
    });
    expect(refused.body.errors?.[0]?.message).toMatch(/^authorization: token revoked/);
    // Another account with the same grants is not affected.
    expect((await h.query(other, QUERY)).body.errors).toBeUndefined();
  });

  it("accepts a token issued after the revocation (refreshed or logged in again)", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    await revoke(admin, Date.now() - 5000);
    await seen(admin);
    expect((await h.query(admin, QUERY)).body.errors).toBeUndefined();
  });

  it("refuses the next operation of a socket opened before its token was revoked", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const server = await h.listen();
    const { client, connected } = connectWs(server.url, bearer(admin));
    const ask = () =>
      new Promise<unknown>((resolve) => {
        const results: unknown[] = [];
        client.subscribe(
          { query: QUERY },
          {
            next: (r) => void results.push(r),
            error: (e) => resolve(e),
            complete: () => resolve(results),
          },
        );
      });
    await connected;
    expect(await ask()).toMatchObject([{ data: { dashboard: expect.anything() } }]);
    await revoke(admin, Date.now() + 1000);
    await seen(admin);
    const refused = (await ask()) as { message: string; extensions?: { code?: string } }[];
    expect(refused[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(refused[0]?.message).toMatch(/^authorization: token revoked/);
    await client.dispose();
  });

  /** An SSE dashboardChanged stream of school s1, read until it ends or `ms` pass. */
  async function sseUntilEnd(token: string, during: () => void, ms = 10_000) {
    const res = await h.raw({
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        query: `subscription { dashboardChanged(scope: { schoolId: "${F.s1}" }) { kind id } }`,
      }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const deadline = Date.now() + ms;
    let text = "";
    let ended = false;
    const tick = setInterval(during, 100);
    try {
      while (Date.now() < deadline) {
        const { value, done } = await Promise.race([
          reader.read(),
          new Promise<{ value: undefined; done: true }>((r) =>
            setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now()),
          ),
        ]);
        if (done) {
          ended = Date.now() < deadline;
          break;
        }
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      clearInterval(tick);
      await reader.cancel().catch(() => {});
    }
    return { text, ended };
  }

  it("ends an SSE subscription opened before its token was revoked, at its next notice", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    let revoked = false;
    const { text, ended } = await sseUntilEnd(admin, () => {
      if (!revoked) {
        revoked = true;
        void revoke(admin, Date.now() + 1000);
        return;
      }
      if (list.revokedAt(subjectOf(admin)) !== undefined)
        hub.deliver({ kind: "dashboard-school", id: F.s1 });
    });
    expect(ended).toBe(true);
    expect(text).toMatch(/token revoked/);
    expect(text).toMatch(/UNAUTHENTICATED/);
    expect(text).not.toMatch(/"dashboardChanged":\{/);
  });

  it("ends an SSE subscription when its token expires, notice or not", async () => {
    const short = await h.issuer.sign({
      roles: [`SCHOOL_ADMIN@school:${F.s1}`],
      expiresInSeconds: 2,
    });
    const { text, ended } = await sseUntilEnd(short, () => {}, 15_000);
    expect(ended).toBe(true);
    expect(text).toMatch(/token expired/);
  });

  describe("a logged-out session (identity's session entry)", () => {
    const roles = [`SCHOOL_ADMIN@school:${F.s1}`];
    /** One account, two logins (the school computer and a phone), and a token from before sessions were named. */
    async function sessions() {
      const sub = randomUUID();
      const shared = { sub, sid: randomUUID() };
      const sign = (sid?: string) =>
        h.issuer.sign({ sub, roles, pid: "admin-person", ...(sid ? { sid } : {}) });
      return {
        shared,
        sharedToken: await sign(shared.sid),
        phoneToken: await sign(randomUUID()),
        olderToken: await sign(),
        logout: async () => {
          await revokeSession(
            kv,
            { accountId: sub, sessionId: shared.sid },
            { revokedAt: Date.now() + 1000, reason: "logout" },
          );
          await expect
            .poll(() => list.sessionRevokedAt(sub, shared.sid), { timeout: 5000 })
            .toBeDefined();
        },
      };
    }

    it("refuses its token over HTTP while another session of the same account still works", async () => {
      const s = await sessions();
      expect((await h.query(s.sharedToken, QUERY)).body.errors).toBeUndefined();
      await s.logout();
      const refused = await h.query(s.sharedToken, QUERY);
      expect(refused.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: "UNAUTHENTICATED",
        field: "authorization",
      });
      expect(refused.body.errors?.[0]?.message).toMatch(/^authorization: token revoked/);
      expect((await h.query(s.phoneToken, QUERY)).body.errors).toBeUndefined();
      // Issued before tokens carried their session: it lives out its lifetime.
      expect((await h.query(s.olderToken, QUERY)).body.errors).toBeUndefined();
    });

    it("closes a WebSocket opened with its token (4401); another session's socket opens", async () => {
      const s = await sessions();
      await s.logout();
      const server = await h.listen();
      const { closed } = connectWs(server.url, bearer(s.sharedToken));
      const { code, reason } = await closed;
      expect(code).toBe(4401);
      expect(reason).toMatch(/token revoked/);
      const phone = connectWs(server.url, bearer(s.phoneToken));
      await phone.connected;
      await phone.client.dispose();
    });

    it("ends an SSE subscription opened with its token, at its next notice", async () => {
      const s = await sessions();
      let loggedOut = false;
      const { text, ended } = await sseUntilEnd(s.sharedToken, () => {
        if (!loggedOut) {
          loggedOut = true;
          void s.logout();
          return;
        }
        if (list.sessionRevokedAt(s.shared.sub, s.shared.sid) !== undefined)
          hub.deliver({ kind: "dashboard-school", id: F.s1 });
      });
      expect(ended).toBe(true);
      expect(text).toMatch(/token revoked/);
      expect(text).not.toMatch(/"dashboardChanged":\{/);
    });
  });

  it("closes a WebSocket connection opened with a revoked token (4401)", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    await revoke(admin, Date.now() + 1000);
    await seen(admin);
    const server = await h.listen();
    // The connection's token is checked when it opens: a revoked one is closed at once.
    const { closed } = connectWs(server.url, bearer(admin));
    const { code, reason } = await closed;
    expect(code).toBe(4401);
    expect(reason).toMatch(/token revoked/);
  });
});
