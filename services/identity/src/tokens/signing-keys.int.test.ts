import { randomBytes } from "node:crypto";
import { createLogger, manualClock } from "@otmetka/service-kit";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { parseMasterKeys } from "../crypto/key-config.js";
import { TEST_NOW, useIdentity } from "../test-support/in-process.js";
import { createTokenSigner } from "./access-tokens.js";
import { startJwksServer } from "./jwks-http.js";
import { SigningKeyStore } from "./signing-keys.js";

const t = useIdentity("identity_signing_keys");
const DAY = 86_400_000;

describe("signing keys", () => {
  it("start-up keeps a young key and rotates an old one; retired keys stay published for a token lifetime", async () => {
    const clock = manualClock(TEST_NOW);
    const keys = new SigningKeyStore(t.deps.store.pool, t.deps.masterKeys, clock, 600);
    const first = await keys.ensureActiveKey(30 * DAY);
    expect(first.created).toBe(true);
    clock.advance(29 * DAY);
    expect(await keys.ensureActiveKey(30 * DAY)).toEqual({ kid: first.kid, created: false });
    clock.advance(DAY);
    // Signed by the old key just before the rotation.
    const signer = createTokenSigner(keys, clock, 600);
    const { token } = await signer.sign({ sub: "a", kind: "user", roles: [] });
    const second = await keys.ensureActiveKey(30 * DAY);
    expect(second.created).toBe(true);
    const published = await keys.publishedKeys();
    expect(published.keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
    // A token of the retired key still verifies against what is published.
    await jwtVerify(token, createLocalJWKSet(published as never), { currentDate: clock.now() });
    clock.advance(661_000);
    expect((await keys.publishedKeys()).keys.map((k) => k.kid)).toEqual([second.kid]);
  });

  it("reseals private keys under a new master key; nothing is stored in clear", async () => {
    const clock = manualClock(TEST_NOW);
    const old = new SigningKeyStore(t.deps.store.pool, t.deps.masterKeys, clock, 600);
    await old.rotate();
    const { privateKey, kid } = await old.activeKey();
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const raw = der.subarray(der.length - 32);
    const { rows: stored } = await t.deps.store.pool.query<{ sealed_private_key: Buffer }>(
      "SELECT sealed_private_key FROM signing_keys",
    );
    for (const r of stored) expect(r.sealed_private_key.includes(raw)).toBe(false);
    const oldEntry = `${t.deps.masterKeys.active.id}:${t.keys.env.IDENTITY_MASTER_KEYS.split(":")[1]}`;
    const ring = parseMasterKeys(`k2:${randomBytes(32).toString("base64")},${oldEntry}`)!;
    const rotated = new SigningKeyStore(t.deps.store.pool, ring, clock, 600);
    expect(await rotated.rewrap()).toBeGreaterThan(0);
    const { rows } = await t.deps.store.pool.query<{ master_key_id: string }>(
      "SELECT DISTINCT master_key_id FROM signing_keys",
    );
    expect(rows).toEqual([{ master_key_id: "k2" }]);
    // Only the new master key is needed from now on.
    const onlyNew = parseMasterKeys(`k2:${ring.byId.get("k2")!.toString("base64")}`)!;
    const after = await new SigningKeyStore(t.deps.store.pool, onlyNew, clock, 600).activeKey();
    expect(after.kid).toBe(kid);
    expect(after.privateKey.export({ format: "der", type: "pkcs8" })).toEqual(der);
  });

  it("serves GET /.well-known/jwks.json only", async () => {
    const keys = new SigningKeyStore(
      t.deps.store.pool,
      t.deps.masterKeys,
      manualClock(TEST_NOW),
      600,
    );
    const logger = createLogger({ service: "test", level: "silent" });
    const server = await startJwksServer({ host: "127.0.0.1", port: 0, keys, logger });
    try {
      expect((await fetch(server.url)).status).toBe(200);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
      expect((await fetch(server.url.replace("jwks.json", "other"))).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
