import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames, openRevocationsBucket } from "@otmetka/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthDeps } from "../auth-setup.js";
import { useIdentity } from "../test-support/in-process.js";
import { bootstrapAdmin } from "./bootstrap-admin.js";

const t = useIdentity("identity_bootstrap");
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: t.env.natsUrl });
});
afterAll(() => nc?.close());

const authDeps = async () =>
  (
    await createAuthDeps(t.deps, {
      accessTokenTtlSeconds: 600,
      refreshTokenTtlSeconds: 3600,
      refreshFamilyMaxAgeSeconds: 3 * 3600,
      signingKeyRotationDays: 30,
      regionId: "74",
      revocations: await openRevocationsBucket(nc, messagingNames(t.env.natsPrefix)),
    })
  ).auth;

describe("bootstrap admin", () => {
  it("refuses a password against the policy, naming the variable and not the password", async () => {
    const err = await bootstrapAdmin(await authDeps(), {
      username: "root",
      password: "password1234",
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toBe("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: is a common password");
    const { rows } = await t.deps.store.pool.query("SELECT count(*)::int AS n FROM accounts");
    expect(rows[0].n).toBe(0);
  });

  it("two instances starting together make one admin; later starts do nothing", async () => {
    const [a, b] = await Promise.all([authDeps(), authDeps()]);
    const admin = { username: "Root", password: "a-root-password-1" };
    const results = await Promise.all([bootstrapAdmin(a, admin), bootstrapAdmin(b, admin)]);
    const { rows } = await t.deps.store.pool.query<{ account_id: string; username: string }>(
      "SELECT a.account_id, a.username FROM accounts a JOIN account_grants g USING (account_id) WHERE g.role = 'PLATFORM_ADMIN'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.username).toBe("root");
    for (const r of results) if (r) expect(r.accountId).toBe(rows[0]!.account_id);
    expect(await bootstrapAdmin(a, admin)).toBeUndefined();
    const { rows: keys } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM signing_keys WHERE retired_at IS NULL",
    );
    expect(keys[0].n).toBe(1);
  });
});
