import { describe, expect, it } from "vitest";
import { clientAddress } from "./client-address.js";

const request = (xff?: string) =>
  new Request("http://gateway.test/graphql", xff ? { headers: { "x-forwarded-for": xff } } : {});
const socket = { req: { socket: { remoteAddress: "10.0.0.9" } } };

describe("clientAddress", () => {
  it("is the socket's peer without trusted proxies, whatever the header claims", () => {
    expect(clientAddress(request("1.2.3.4"), socket, 0)).toBe("10.0.0.9");
  });

  it("is the entry the outermost trusted proxy appended, not the client's own claims", () => {
    // The client sent "6.6.6.6"; the balancer appended the real peer 203.0.113.7.
    expect(clientAddress(request("6.6.6.6, 203.0.113.7"), socket, 1)).toBe("203.0.113.7");
    // Two proxies: the second appended the first's address.
    expect(clientAddress(request("6.6.6.6, 203.0.113.7, 10.1.1.1"), socket, 2)).toBe("203.0.113.7");
  });

  it("falls back to the socket when the header is shorter than the hops, or absent", () => {
    expect(clientAddress(request("203.0.113.7"), socket, 2)).toBe("10.0.0.9");
    expect(clientAddress(request(), socket, 1)).toBe("10.0.0.9");
  });

  it("is 'unknown' without a socket (an in-process call)", () => {
    expect(clientAddress(request(), {}, 0)).toBe("unknown");
  });
});
