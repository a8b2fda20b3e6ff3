import { createHash } from "node:crypto";
import { createLogger } from "@otmetka/service-kit";
import type { FormattedExecutionResult } from "graphql";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { commandOperation } from "../mutations/typed.js";
import { NoticeHub } from "../subscriptions/notices.js";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { bearer, connectWs as connect, until } from "../test-support/ws-client.js";
import type { ListeningGateway } from "./websocket.js";

/*
 * GraphQL over WebSocket (graphql-ws) on the gateway's real HTTP server: the same caller
 * verification, rate limit, field policies, persisted-only mode and body limit as over HTTP.
 * Notices come from the NoticeHub's deliver, as reporting's would.
 */

const OWN_JOURNAL = `journal-${F.c1}-rus-${F.year}`;
const JOURNAL_SUB = `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "rus") { kind id } }`;

type ExecutionResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

interface Stream {
  results: ExecutionResult[];
  /** Resolves when the server completed the operation or it failed (its error, if any). */
  ended: Promise<unknown>;
  stop(): void;
}

function run(
  client: Client,
  query: string,
  extra: { variables?: Record<string, unknown>; extensions?: Record<string, unknown> } = {},
): Stream {
  const results: ExecutionResult[] = [];
  let end: (e?: unknown) => void = () => {};
  const ended = new Promise<unknown>((r) => (end = r));
  const stop = client.subscribe(
    { query, ...extra },
    { next: (r) => void results.push(r), error: (e) => end(e), complete: () => end() },
  );
  return { results, ended, stop };
}

const codes = (r: ExecutionResult | unknown) =>
  ((r as ExecutionResult).errors ?? (Array.isArray(r) ? r : [])).map(
    (e: { extensions?: { code?: unknown } }) => e.extensions?.code,
  );

describe("GraphQL over WebSocket", () => {
  let h: GatewayHarness;
  let gw: ListeningGateway;
  const hub = new NoticeHub();
  const clients: Client[] = [];
  const open = (params?: Record<string, unknown>) => {
    const o = connect(gw.url, params);
    clients.push(o.client);
    return o;
  };

  beforeAll(async () => {
    h = await startGatewayHarness({ notices: hub });
    gw = await h.listen();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await h?.close();
  });

  it("delivers a journal's change notices to an authorized subscriber, no other journal's", async () => {
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    const { client } = open(bearer(teacher));
    const s = run(client, JOURNAL_SUB);
    // The server has no "subscribed" message: notices are hints, so send until one arrives.
    await until(
      () => s.results.length > 0,
      () => {
        hub.deliver({ kind: "journal", id: `journal-${F.c1}-rus-lit-${F.year}` });
        hub.deliver({ kind: "journal", id: OWN_JOURNAL });
      },
    );
    s.stop();
    expect(s.results.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(s.results.map((r) => JSON.stringify(r.data)))).toEqual(
      new Set([JSON.stringify({ journalChanged: { kind: "journal", id: OWN_JOURNAL } })]),
    );
  });

  it("refuses a connection without a valid token with 4401, naming why", async () => {
    const expired = await h.issuer.sign({
      roles: ["STUDENT"],
      pid: F.p1,
      expiresInSeconds: -60,
    });
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    for (const [params, why] of [
      [undefined, /connectionParams\.authorization/],
      [{ authorization: teacher }, /connectionParams\.authorization/],
      [{ token: teacher }, /connectionParams\.authorization/],
      [bearer("not.a.jwt"), /^UNAUTHENTICATED/],
      [bearer(expired), /expired/],
    ] as const) {
      const o = open(params);
      const s = run(o.client, JOURNAL_SUB);
      const c = await o.closed;
      expect([c.code, c.reason], JSON.stringify(params)).toEqual([
        4401,
        expect.stringMatching(why),
      ]);
      expect(s.results).toEqual([]);
    }
  });

  it("closes the socket with 4401 when its token expires, ending its subscriptions", async () => {
    // Its own hub: the notice streams open on it are this test's alone.
    const own = new NoticeHub();
    const listening = () => (own as unknown as { listeners: Set<unknown> }).listeners.size;
    const h5 = await startGatewayHarness({ notices: own });
    const gw5 = await h5.listen();
    const before = listening();
    // Valid for a second (the verifier tolerates 5 s of skew, the socket none).
    const short = await h5.issuer.sign({
      roles: [`TEACHER@school:${F.s1}`],
      pid: F.t3,
      expiresInSeconds: 1,
    });
    const o = connect(gw5.url, bearer(short));
    clients.push(o.client);
    const s = run(o.client, JOURNAL_SUB);
    await until(
      () => s.results.length > 0,
      () => own.deliver({ kind: "journal", id: OWN_JOURNAL }),
    );
    const c = await o.closed;
    expect([c.code, c.reason]).toEqual([4401, "UNAUTHENTICATED: token expired"]);
    // The subscription's notice stream ended with its socket: nothing is delivered after.
    await until(() => listening() === before);
    await h5.close();
  });

  it("answers FORBIDDEN to a subscription the caller may not see, and nothing of its notices", async () => {
    const officer = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m1}`]);
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    for (const [token, query] of [
      [officer, JOURNAL_SUB],
      [
        teacher,
        `subscription { journalChanged(classGroupId: "${F.c2}", subjectId: "rus") { kind id } }`,
      ],
      [teacher, `subscription { diaryChanged(studentId: "${F.q1}") { kind id } }`],
    ] as const) {
      const { client } = open(bearer(token));
      const s = run(client, query);
      hub.deliver({ kind: "journal", id: OWN_JOURNAL });
      hub.deliver({ kind: "journal", id: `journal-${F.c2}-rus-${F.year}` });
      hub.deliver({ kind: "diary", id: F.q1 });
      expect(await s.ended, query).toBeUndefined();
      expect(s.results.map(codes), query).toEqual([["FORBIDDEN"]]);
      expect(JSON.stringify(s.results)).not.toMatch(/"kind"/);
    }
  });

  it("runs queries and mutations with the HTTP path's checks", async () => {
    const guardian = await h.token(["GUARDIAN"], F.g1);
    const { client } = open(bearer(guardian));
    const me = run(client, "{ me { accountId } }");
    await me.ended;
    expect(me.results).toEqual([{ data: { me: { accountId: expect.any(String) } } }]);
    h.fakes.reset();
    const journal = { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } };
    const mark = { studentId: F.p1, value: "MARK_VALUE_FIVE", workType: "ORAL" };
    const refused = run(client, commandOperation("recordMark"), {
      variables: { c: "cmd-ws", i: { journal, lessonId: "l1", mark } },
    });
    await refused.ended;
    expect(refused.results.map(codes)).toEqual([["FORBIDDEN"]]);
    expect(h.fakes.totalCalls()).toBe(0);
    // A staff read of pupils' data is audited as over HTTP (the envelop plugins run).
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
    const staff = open(bearer(teacher)).client;
    const before = h.records.length;
    const read = run(
      staff,
      `query J { journal(classGroupId: "${F.c1}", subjectId: "math", termId: "${F.year}:1") { rows { pupil { name } } } }`,
    );
    await read.ended;
    expect(read.results[0]?.errors).toBeUndefined();
    expect(h.records.slice(before).map((r) => [r.operation, r.pupilPersonIds.length])).toEqual([
      ["J", 30],
    ]);
    // A typo gets BAD_USER_INPUT without graphql-js's hint at the schema's names.
    const typo = run(client, "{ me { acountId } }");
    const err = await typo.ended;
    expect(codes(err)).toEqual(["BAD_USER_INPUT"]);
    expect(JSON.stringify(err)).not.toMatch(/Did you mean/);
  });

  it("closes with 1013 (try again later) when the key set cannot be fetched", async () => {
    const h3 = await startGatewayHarness({ notices: hub });
    const gw3 = await h3.listen();
    const teacher = await h3.token([`TEACHER@school:${F.s1}`], F.t3);
    await h3.issuer.stop();
    const o = connect(gw3.url, bearer(teacher));
    const c = await o.closed;
    expect([c.code, c.reason]).toEqual([1013, expect.stringMatching(/^UNAVAILABLE: /)]);
    await o.client.dispose();
    await h3.close().catch(() => {
      // Its issuer is stopped already.
    });
  });

  it("arms no expiry timer for a socket closed while its token was being verified", async () => {
    // A fresh gateway: its first verification fetches the key set, so the socket is gone
    // before the token is verified.
    const h4 = await startGatewayHarness({ notices: hub });
    const gw4 = await h4.listen();
    const teacher = await h4.token([`TEACHER@school:${F.s1}`], F.t3);
    const armed: unknown[] = [];
    const cleared = new Set<unknown>();
    const unspied = globalThis.clearTimeout;
    const set = vi.spyOn(globalThis, "setTimeout");
    const clear = vi.spyOn(globalThis, "clearTimeout").mockImplementation(((t: unknown) => {
      cleared.add(t);
      unspied(t as never);
    }) as typeof clearTimeout);
    try {
      const socket = new WebSocket(gw4.url.replace(/^http/, "ws"), "graphql-transport-ws");
      await new Promise((r) => socket.once("open", r));
      const gone = new Promise((r) => socket.once("close", r));
      socket.send(JSON.stringify({ type: "connection_init", payload: bearer(teacher) }));
      socket.terminate();
      await gone;
      await new Promise((r) => setTimeout(r, 300));
      // The token's expiry timer is the only one of minutes (the token lives 10).
      set.mock.calls.forEach((c, i) => {
        if (typeof c[1] === "number" && c[1] > 60_000) armed.push(set.mock.results[i]?.value);
      });
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
    expect(armed.filter((t) => !cleared.has(t))).toEqual([]);
    await h4.close();
  });

  it("fails to start on a port in use instead of waiting forever", async () => {
    const port = Number(new URL(gw.url).port);
    await expect(h.listen(port)).rejects.toThrow(/EADDRINUSE/);
  });

  it("closes every socket when the gateway closes", async () => {
    const h2 = await startGatewayHarness({ notices: hub });
    const gw2 = await h2.listen();
    const teacher = await h2.token([`TEACHER@school:${F.s1}`], F.t3);
    const o = connect(gw2.url, bearer(teacher));
    const s = run(o.client, JOURNAL_SUB);
    await until(
      () => s.results.length > 0,
      () => hub.deliver({ kind: "journal", id: OWN_JOURNAL }),
    );
    await gw2.close();
    expect((await o.closed).code).toBe(1001);
    await h2.close();
    await o.client.dispose();
  });
});

describe("GraphQL over WebSocket: persisted-only mode, limits", () => {
  const hub = new NoticeHub();
  const hash = createHash("sha256").update(JOURNAL_SUB).digest("hex");
  let h: GatewayHarness;
  let gw: ListeningGateway;
  let teacher: string;
  const clients: Client[] = [];
  const open = (params?: Record<string, unknown>) => {
    const o = connect(gw.url, params);
    clients.push(o.client);
    return o;
  };
  // The gateway's log lines, read back.
  const logged: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "gateway-test",
    level: "debug",
    destination: { write: (line: string) => void logged.push(JSON.parse(line)) },
  });

  beforeAll(async () => {
    h = await startGatewayHarness({
      logger,
      notices: hub,
      persistedOnly: true,
      persistedOperations: { [hash]: JOURNAL_SUB },
      maxBodyBytes: 2000,
      limits: { depth: 10, cost: 5000, aliases: 15, tokens: 2000, perMinute: 4 },
    });
    gw = await h.listen();
    teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await h?.close();
  });

  it("runs a persisted operation by its hash, refuses any other document and unknown hashes", async () => {
    const { client } = open(bearer(teacher));
    const s = run(client, "", { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    await until(
      () => s.results.length > 0,
      () => hub.deliver({ kind: "journal", id: OWN_JOURNAL }),
    );
    expect(s.results[0]).toEqual({
      data: { journalChanged: { kind: "journal", id: OWN_JOURNAL } },
    });
    s.stop();
    for (const [query, extensions] of [
      [JOURNAL_SUB, undefined],
      ["", { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } }],
    ] as const) {
      const r = run(client, query, extensions ? { extensions } : {});
      const err = await r.ended;
      expect(codes(err), query).toEqual(["BAD_USER_INPUT"]);
      expect(r.results).toEqual([]);
    }
  });

  it("counts the connection and each operation against the caller's rate limit", async () => {
    // A new account (its own token subject): 4 requests a minute (the harness's clock stands).
    const own = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    const { client } = open(bearer(own));
    const answers: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const r = run(client, "{ me { accountId } }");
      answers.push(codes(await r.ended));
    }
    // The connection was the first; refused documents count too, as over HTTP.
    expect(answers).toEqual([
      ["BAD_USER_INPUT"],
      ["BAD_USER_INPUT"],
      ["BAD_USER_INPUT"],
      ["RATE_LIMITED"],
    ]);
    const again = open(bearer(own));
    const c = await again.closed;
    expect([c.code, c.reason]).toEqual([4429, expect.stringMatching(/^RATE_LIMITED: /)]);
  });

  it("closes a socket whose message is larger than the HTTP body limit (1009)", async () => {
    const other = await h.token([`TEACHER@school:${F.s1}`], F.t1);
    const o = open(bearer(other));
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const s = run(o.client, `${JOURNAL_SUB}${" ".repeat(2000)}`);
      expect((await o.closed).code).toBe(1009);
      expect(s.results).toEqual([]);
      await until(() => logged.some((l) => l.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"));
      // graphql-ws's useServer printed it with console.error, stack and all: now the logger
      // has it, as the client's doing (a warning without a stack).
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
    const line = logged.find((l) => l.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    expect(line).toMatchObject({ level: "warn", reason: "Max payload size exceeded" });
    expect(JSON.stringify(line)).not.toMatch(/\bat /);
  });
});
