import type { FormattedExecutionResult } from "graphql";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ListeningGateway } from "../http/websocket.js";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { bearer, connectWs, until } from "../test-support/ws-client.js";
import { NoticeHub } from "./notices.js";

/*
 * Open subscriptions per account (GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT), over SSE and
 * WebSocket together, on the gateway's real HTTP server; notices from NoticeHub.deliver.
 */

const LIMIT = 2;
const OWN_JOURNAL = `journal-${F.c1}-rus-${F.year}`;
const JOURNAL_SUB = `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "rus") { kind id } }`;
/** One subscription, whatever its transport: what it received, whether it ended. */
interface Sub {
  text(): string;
  ended(): boolean;
  stop(): void;
}

describe("open subscriptions per account", () => {
  const hub = new NoticeHub();
  let h: GatewayHarness;
  let gw: ListeningGateway;
  const clients: Client[] = [];
  const subs: Sub[] = [];
  const deliver = () => hub.deliver({ kind: "journal", id: OWN_JOURNAL });

  beforeAll(async () => {
    h = await startGatewayHarness({
      notices: hub,
      limits: {
        depth: 10,
        cost: 5000,
        aliases: 15,
        tokens: 2000,
        perMinute: 10_000,
        subscriptionsPerAccount: LIMIT,
      },
    });
    gw = await h.listen();
  });
  afterAll(async () => {
    for (const s of subs) s.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await h?.close();
  });

  const teacher = () => h.token([`TEACHER@school:${F.s1}`], F.t3);

  function sse(token: string): Sub {
    const abort = new AbortController();
    let text = "";
    let ended = false;
    void (async () => {
      try {
        const res = await fetch(gw.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "text/event-stream",
            ...bearer(token),
          },
          body: JSON.stringify({ query: JOURNAL_SUB }),
          signal: abort.signal,
        });
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          text += decoder.decode(chunk, { stream: true });
      } catch {
        // Aborted by the test.
      }
      ended = true;
    })();
    const s = { text: () => text, ended: () => ended, stop: () => abort.abort() };
    subs.push(s);
    return s;
  }

  function wsClient(token: string): Client {
    const { client } = connectWs(gw.url, bearer(token));
    clients.push(client);
    return client;
  }

  function ws(client: Client, query = JOURNAL_SUB): Sub {
    let text = "";
    let ended = false;
    const stop = client.subscribe(
      { query },
      {
        next: (r: FormattedExecutionResult) => {
          text += JSON.stringify(r);
        },
        error: (e) => {
          text += JSON.stringify(e);
          ended = true;
        },
        complete: () => {
          ended = true;
        },
      },
    );
    const s = { text: () => text, ended: () => ended, stop };
    subs.push(s);
    return s;
  }

  /** A raw graphql-transport-ws socket with one subscription; `stop` cuts it off abruptly. */
  function rawWs(token: string): Sub {
    const socket = new WebSocket(gw.url.replace(/^http/, "ws"), "graphql-transport-ws");
    let text = "";
    let ended = false;
    socket.on("message", (m) => {
      const msg = JSON.parse(String(m)) as { type: string };
      text += String(m);
      if (msg.type === "connection_ack")
        socket.send(
          JSON.stringify({ id: "1", type: "subscribe", payload: { query: JOURNAL_SUB } }),
        );
      if (msg.type === "error" || msg.type === "complete") ended = true;
    });
    socket.once("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: bearer(token) })),
    );
    socket.once("close", () => {
      ended = true;
    });
    // terminate(): no close frame, the TCP connection just ends.
    const s = { text: () => text, ended: () => ended, stop: () => socket.terminate() };
    subs.push(s);
    return s;
  }

  const accepted = (s: Sub) => until(() => s.text().includes(OWN_JOURNAL), deliver);
  async function refused(s: Sub) {
    await until(s.ended);
    expect(s.text()).toContain("RATE_LIMITED");
    expect(s.text()).toContain(`more than ${LIMIT} open subscriptions`);
    expect(s.text()).not.toContain(OWN_JOURNAL);
  }
  /** A slot is given back asynchronously (the client's complete, the socket's close). */
  async function acceptedOnceReleased(open: () => Sub) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = open();
      await until(() => s.ended() || s.text().includes(OWN_JOURNAL), deliver);
      if (!s.ended()) return s;
      expect(s.text()).toContain("RATE_LIMITED");
      if (Date.now() > deadline) throw new Error("the slot was not given back");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("refuses the (limit+1)-th subscription of one account over SSE and WebSocket, not another account's", async () => {
    const token = await teacher();
    const client = wsClient(token);
    await accepted(sse(token));
    await accepted(ws(client));
    await refused(sse(token));
    await refused(ws(client));
    // Nothing else changes: the socket stays open and runs other operations; the open
    // subscriptions still hear their notices.
    const me = ws(client, "{ me { accountId } }");
    await until(me.ended);
    expect(me.text()).toContain("accountId");
    // Another account (its own token subject) has its own slots.
    const other = await teacher();
    await accepted(sse(other));
    await accepted(ws(wsClient(other)));
  });

  it("gives the slot back when a subscription ends: completed, SSE aborted, socket cut off", async () => {
    const token = await teacher();
    const client = wsClient(token);
    const viaWs = ws(client);
    const viaSse = sse(token);
    await accepted(viaWs);
    await accepted(viaSse);
    await refused(ws(client));
    // The client completes its WebSocket subscription.
    viaWs.stop();
    const again = await acceptedOnceReleased(() => ws(client));
    await refused(sse(token));
    // The SSE client goes away.
    viaSse.stop();
    await acceptedOnceReleased(() => sse(token));
    await refused(ws(client));
    // A socket closed without a close frame (a client gone off the network).
    again.stop();
    const raw = await acceptedOnceReleased(() => rawWs(token));
    await refused(ws(client));
    raw.stop();
    await acceptedOnceReleased(() => ws(client));
  });
});
