/** A GraphQL subscription over SSE (yoga's distinct-connections mode), for tests and the bench. */
export interface Subscription {
  name: string;
  /** Every `data:` payload received so far, parsed. */
  events: unknown[];
  close(): void;
}

/** Opens the subscription; resolves once the gateway answered (the stream is registered). */
export async function openSubscription(
  url: string,
  token: string,
  name: string,
  query: string,
): Promise<Subscription> {
  const ac = new AbortController();
  const res = await fetch(url, {
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
  const body = res.body;
  if (body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      const reader = body.getReader();
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
    })().catch(() => {
      // Closed by close(): the abort ends the read.
    });
  }
  return { name, events, close: () => ac.abort() };
}
