import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Metadata } from "@grpc/grpc-js";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export interface TestTokenClaims {
  /** Account id; a fresh uuid when omitted. */
  sub?: string;
  kind?: "user" | "service";
  /** Person id of the account (staff, pupil, guardian). */
  pid?: string;
  /** `ROLE@kind:id` or bare `ROLE`, as identity issues them. */
  roles: string[];
  svc?: string;
  /** Session (identity's refresh family) of a user's login; absent on older tokens. */
  sid?: string;
  /** Lifetime from now; negative gives an already expired token. Default 600. */
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
}

export interface TestTokenIssuer {
  jwksUrl: string;
  sign(claims: TestTokenClaims): Promise<string>;
  /** gRPC metadata carrying `authorization: Bearer <token>`. */
  metadataFor(token: string): Metadata;
  /** Adds a new signing key (published with the old ones, which stay valid). */
  rotate(): Promise<void>;
  /** How many times the JWKS was served, to see verifiers cache it. */
  fetchCount(): number;
  stop(): Promise<void>;
}

/**
 * A stand-in for identity's token side: its own Ed25519 key, published as a JWKS over HTTP on a
 * free port, so a service can be tested with real verification and no identity process.
 */
export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  const keys: {
    kid: string;
    privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
    jwk: Record<string, unknown>;
  }[] = [];
  const addKey = async () => {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const kid = randomUUID();
    keys.push({
      kid,
      privateKey,
      jwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" },
    });
  };
  await addKey();
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      fetches += 1;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    async sign(c) {
      const active = keys[keys.length - 1] as (typeof keys)[number];
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        typ_kind: c.kind ?? "user",
        roles: c.roles,
        ...(c.pid ? { pid: c.pid } : {}),
        ...(c.svc ? { svc: c.svc } : {}),
        ...(c.sid ? { sid: c.sid } : {}),
      })
        .setProtectedHeader({ alg: "EdDSA", kid: active.kid })
        .setSubject(c.sub ?? randomUUID())
        .setIssuer(c.issuer ?? "otmetka-identity")
        .setAudience(c.audience ?? "otmetka")
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + (c.expiresInSeconds ?? 600))
        .sign(active.privateKey);
    },
    rotate: addKey,
    fetchCount: () => fetches,
    metadataFor(token) {
      const md = new Metadata();
      md.set("authorization", `Bearer ${token}`);
      return md;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
