/**
 * The address a request came from, for limits on requests that carry no token. Behind
 * `trustedProxyHops` proxies (a balancer that appends to X-Forwarded-For, and so on) it is
 * the entry that the outermost trusted proxy appended: the hops-th from the right. Entries
 * further left are the client's own claim and are not trusted. Without proxies, or when the
 * header has fewer entries than that, it is the socket's peer; "unknown" when there is no
 * socket (an in-process call), so such requests share one count.
 */
export function clientAddress(
  request: Request,
  serverContext: Record<string, unknown>,
  trustedProxyHops: number,
): string {
  if (trustedProxyHops > 0) {
    const hops = (request.headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    const client = hops[hops.length - trustedProxyHops];
    if (client) return client;
  }
  const req = serverContext.req as { socket?: { remoteAddress?: string } } | undefined;
  return req?.socket?.remoteAddress ?? "unknown";
}
