/** A GraphQL subscription over SSE (yoga's distinct-connections mode), for tests and the bench. */
export interface Subscription {
  name: string;
  /** Every `data:` payload received so far, parsed. */
  events: unknown[];
  /** The gateway ended the stream (after an error event, say), not close(). */
  readonly ended: boolean;
  close(): void;
}

/** Opens the subscription; resolves once the gateway answered (the stream is registered). */
export async function openSubscription(
  url: string,
  token: string,
  name: string,
  query: string,
  // In-process tests pass the gateway's own (yoga.fetch).
  fetchImpl: (url: string, init: RequestInit) => Promise<Response> | Response = fetch,
): Promise<Subscription> {
  const ac = new AbortController();
  const res = await fetchImpl(url, {
    method: "POST",
    headers: {
      accept: "text/event-stream",
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query }),
    signal: ac.signal,
  });
  const events: unknown[] = [];
  let ended = false;
  const body = res.body;
  const reader = body?.getReader();
  if (reader) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
          const data = buf
            .slice(0, i)
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trim())
            .join("");
          buf = buf.slice(i + 2);
          if (data) events.push(JSON.parse(data));
        }
      }
      ended = !ac.signal.aborted;
    })().catch(() => {
      // Closed by close(): the abort ends the read.
    });
  }
  return {
    name,
    events,
    get ended() {
      return ended;
    },
    close: () => {
      ac.abort();
      // An in-process fetch may not watch the signal: the read ends here too.
      void reader?.cancel().catch(() => {});
    },
  };
}
