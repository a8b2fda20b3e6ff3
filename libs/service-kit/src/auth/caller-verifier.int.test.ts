import { Metadata, status } from "@grpc/grpc-js";
import { startTestTokenIssuer, type TestTokenIssuer } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { authorizedHandler } from "./authorized-handler.js";
import { type CallerVerifier, createCallerVerifier } from "./caller-verifier.js";

let issuer: TestTokenIssuer;
let verifier: CallerVerifier;

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  verifier = createCallerVerifier({ jwksUrl: issuer.jwksUrl, refetchCooldownMs: 0 });
});
afterAll(() => issuer.stop());

const refusalOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => err as { kind: string; message: string },
  );

/** base64url of a JSON value, for hand-made tokens. */
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe("caller verification against a JWKS over HTTP", () => {
  it("reads the caller from a valid token", async () => {
    const token = await issuer.sign({
      sub: "acc-1",
      pid: "person-1",
      roles: ["TEACHER@school:A", "GUARDIAN"],
    });
    const caller = await verifier.verify(issuer.metadataFor(token));
    expect(caller).toEqual({
      kind: "user",
      accountId: "acc-1",
      personId: "person-1",
      grants: [
        { role: "TEACHER", scope: { kind: "school", id: "A" } },
        { role: "GUARDIAN", scope: { kind: "none" } },
      ],
      token,
    });
  });

  it("refuses a missing or malformed authorization header", async () => {
    expect(await refusalOf(verifier.verify(new Metadata()))).toMatchObject({
      kind: "unauthenticated",
      message: expect.stringMatching(/^authorization: missing/),
    });
    const md = new Metadata();
    md.set("authorization", "Basic dXNlcjpwYXNz");
    expect((await refusalOf(verifier.verify(md))).message).toMatch(/is not 'Bearer <token>'/);
  });

  it("refuses a tampered signature, changed claims, an expired token and alg none", async () => {
    const token = await issuer.sign({ roles: ["TEACHER@school:A"] });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    expect((await refusalOf(verifier.verifyToken(`${header}.${payload}.${flipped}`))).message).toBe(
      "authorization: token signature is invalid",
    );
    const widened = b64({
      ...JSON.parse(Buffer.from(payload, "base64url").toString()),
      roles: ["PLATFORM_ADMIN"],
    });
    expect(
      (await refusalOf(verifier.verifyToken(`${header}.${widened}.${signature}`))).message,
    ).toBe("authorization: token signature is invalid");
    const expired = await issuer.sign({ roles: ["TEACHER@school:A"], expiresInSeconds: -60 });
    expect((await refusalOf(verifier.verifyToken(expired))).message).toBe(
      "authorization: token expired",
    );
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${payload}.`;
    expect(await refusalOf(verifier.verifyToken(unsigned))).toMatchObject({
      kind: "unauthenticated",
      message: expect.stringMatching(/algorithm not allowed|malformed/),
    });
  });

  it("refuses tokens for another audience or from another issuer's key", async () => {
    const other = await issuer.sign({ roles: ["GUARDIAN"], audience: "someone-else" });
    expect((await refusalOf(verifier.verifyToken(other))).message).toMatch(/claim aud is invalid/);
    const stranger = await startTestTokenIssuer();
    try {
      const forged = await stranger.sign({ roles: ["PLATFORM_ADMIN"] });
      expect((await refusalOf(verifier.verifyToken(forged))).message).toBe(
        "authorization: token signed by an unknown key",
      );
    } finally {
      await stranger.stop();
    }
  });

  it("refuses a token whose roles claim is not understood", async () => {
    const token = await issuer.sign({ roles: ["TEACHER@region:74"] });
    expect(await refusalOf(verifier.verifyToken(token))).toMatchObject({
      kind: "unauthenticated",
      message: expect.stringMatching(/^roles: /),
    });
  });

  it("caches the key set, and picks up a rotated key while old tokens stay valid", async () => {
    const own = await startTestTokenIssuer();
    try {
      const v = createCallerVerifier({ jwksUrl: own.jwksUrl, refetchCooldownMs: 0 });
      const before = await own.sign({ roles: ["STUDENT"] });
      for (let i = 0; i < 20; i++) await v.verifyToken(await own.sign({ roles: ["STUDENT"] }));
      expect(own.fetchCount()).toBe(1);
      await own.rotate();
      const after = await own.sign({ roles: ["STUDENT"] });
      await expect(v.verifyToken(after)).resolves.toMatchObject({ kind: "user" });
      await expect(v.verifyToken(before)).resolves.toMatchObject({ kind: "user" });
      expect(own.fetchCount()).toBe(2);
    } finally {
      await own.stop();
    }
  });

  it("answers unavailable, not unauthenticated, when the key set cannot be fetched", async () => {
    const gone = await startTestTokenIssuer();
    const token = await gone.sign({ roles: ["STUDENT"] });
    await gone.stop();
    const v = createCallerVerifier({ jwksUrl: gone.jwksUrl });
    expect(await refusalOf(v.verifyToken(token))).toMatchObject({ kind: "unavailable" });
  });
});

describe("authorizedHandler", () => {
  const logger = createLogger({ service: "test", level: "silent" });
  const call = (md: Metadata) =>
    new Promise<{ err: { code: number; details: string } | null; res?: unknown }>((resolve) => {
      const handler = authorizedHandler(logger, verifier, async (req: { n: number }, c) => ({
        n: req.n,
        actor: c.metadata.actor,
        grants: c.caller.grants.length,
      }));
      handler({ request: { n: 1 }, metadata: md }, (err, res) => resolve({ err, res }));
    });

  it("refuses a call without a token before the handler runs", async () => {
    const { err } = await call(new Metadata());
    expect(err).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("passes the verified caller and records it as the actor, ignoring a stated x-actor-id", async () => {
    const md = issuer.metadataFor(
      await issuer.sign({ sub: "acc-9", pid: "p-9", roles: ["STUDENT"] }),
    );
    md.set("x-actor-id", "someone-else");
    const { err, res } = await call(md);
    expect(err).toBeNull();
    expect(res).toEqual({ n: 1, actor: { id: "acc-9", kind: "user", personId: "p-9" }, grants: 1 });
  });
});
