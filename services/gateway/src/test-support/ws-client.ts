import { type Client, createClient } from "graphql-ws";
import { WebSocket } from "ws";

/** A socket's close event: its code and reason. */
export interface Closed {
  code: number;
  reason: string;
}

export interface WsConnection {
  client: Client;
  /** Resolves when the server acknowledged `connection_init`. */
  connected: Promise<void>;
  /** Resolves with the socket's close event. */
  closed: Promise<Closed>;
}

/** A graphql-ws client that connects at once and never retries (tests see every close). */
export function connectWs(url: string, connectionParams?: Record<string, unknown>): WsConnection {
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((r) => (onConnected = r));
  let onClosed: (c: Closed) => void = () => {};
  const closed = new Promise<Closed>((r) => (onClosed = r));
  const client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    ...(connectionParams ? { connectionParams } : {}),
    onNonLazyError: () => {},
    on: {
      connected: () => onConnected(),
      closed: (e) => {
        const ev = e as { code: number; reason: string };
        onClosed({ code: ev.code, reason: String(ev.reason) });
      },
    },
  });
  return { client, connected, closed };
}

/** `connection_init`'s payload (or the HTTP headers) carrying a bearer token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Waits until `check()` holds, calling `tick()` every 25 ms meanwhile; throws after `ms`. */
export async function until(check: () => boolean, tick: () => void = () => {}, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    tick();
    await new Promise((r) => setTimeout(r, 25));
  }
}
