import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import type { Queryable } from "@otmetka/eventstore";
import type { Clock } from "@otmetka/service-kit";
import type pg from "pg";
import { open, seal } from "../crypto/aead.js";
import type { MasterKeyring } from "../crypto/key-config.js";

/** A public key as published in the JWKS. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

export interface ActiveKey {
  kid: string;
  privateKey: KeyObject;
}

const aadOfKey = (kid: string, masterKeyId: string) =>
  `otmetka.identity/signing-key/${kid}/${masterKeyId}`;

/** Serializes rotations across instances (transaction-scoped advisory lock). */
const ROTATION_LOCK = 7_310_001;

/**
 * Ed25519 signing keys in PostgreSQL, private halves sealed under the active master key. One
 * key is active (signs); a retired key stays published until every token it signed has
 * expired (retired_at + access-token lifetime + a minute of slack for a signer that read the
 * key just before the rotation), so rotation logs nobody out.
 */
export class SigningKeyStore {
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly ring: MasterKeyring,
    private readonly clock: Clock,
    private readonly accessTokenTtlSeconds: number,
  ) {}

  /** Retires the active key and activates a fresh one; returns the new key id. */
  async rotate(): Promise<string> {
    return this.inLock(async (client) => this.insertNewKey(client));
  }

  /** Creates a key when there is none or the active one is older than `rotateAfterMs`. */
  async ensureActiveKey(rotateAfterMs: number): Promise<{ kid: string; created: boolean }> {
    return this.inLock(async (client) => {
      const active = await this.activeRow(client);
      const now = this.clock.now().getTime();
      if (active && now - active.activated_at.getTime() < rotateAfterMs) {
        return { kid: active.kid, created: false };
      }
      return { kid: await this.insertNewKey(client), created: true };
    });
  }

  /** The key that signs now (read each time, so a rotation by another instance is seen). */
  async activeKey(): Promise<ActiveKey> {
    const row = await this.activeRow(this.pool);
    if (!row) throw new Error("no active signing key (start-up creates one)");
    let privateKey = this.cache.get(row.kid);
    if (!privateKey) {
      const der = open(
        this.masterKey(row.master_key_id),
        aadOfKey(row.kid, row.master_key_id),
        row.sealed_private_key,
      );
      if (!der) throw new Error(`signing key ${row.kid} does not unseal`);
      privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
      this.cache.set(row.kid, privateKey);
    }
    return { kid: row.kid, privateKey };
  }

  /** The JWKS: the active key and retired keys whose tokens may still be valid. */
  async publishedKeys(): Promise<{ keys: PublicJwk[] }> {
    const horizon = new Date(this.clock.now().getTime() - (this.accessTokenTtlSeconds + 60) * 1000);
    const { rows } = await this.pool.query<{ public_jwk: PublicJwk }>(
      `SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1
       ORDER BY activated_at DESC`,
      [horizon],
    );
    return { keys: rows.map((r) => r.public_jwk) };
  }

  /** Reseals private keys held under a retired master key (start-up, like data keys). */
  async rewrap(): Promise<number> {
    const { rows } = await this.pool.query<KeyRow>(
      "SELECT * FROM signing_keys WHERE master_key_id <> $1",
      [this.ring.active.id],
    );
    for (const row of rows) {
      const der = open(
        this.masterKey(row.master_key_id),
        aadOfKey(row.kid, row.master_key_id),
        row.sealed_private_key,
      );
      if (!der) throw new Error(`signing key ${row.kid} does not unseal`);
      const { id, key } = this.ring.active;
      await this.pool.query(
        "UPDATE signing_keys SET master_key_id = $2, sealed_private_key = $3 WHERE kid = $1 AND master_key_id = $4",
        [row.kid, id, seal(key, aadOfKey(row.kid, id), der), row.master_key_id],
      );
    }
    return rows.length;
  }

  private masterKey(id: string): Buffer {
    const key = this.ring.byId.get(id);
    if (!key) throw new Error(`master key ${id} is not configured`);
    return key;
  }

  private async activeRow(db: Queryable): Promise<KeyRow | undefined> {
    const { rows } = await db.query<KeyRow>(
      `SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY activated_at DESC LIMIT 1`,
    );
    return rows[0];
  }

  private async insertNewKey(client: pg.PoolClient): Promise<string> {
    const now = this.clock.now();
    const kid = `${now.toISOString().slice(0, 10)}-${randomBytes(6).toString("base64url")}`;
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const jwk = publicKey.export({ format: "jwk" });
    const publicJwk: PublicJwk = {
      kty: jwk.kty!,
      crv: jwk.crv!,
      x: jwk.x!,
      kid,
      alg: "EdDSA",
      use: "sig",
    };
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const { id, key } = this.ring.active;
    await client.query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL", [now]);
    await client.query(
      `INSERT INTO signing_keys (kid, public_jwk, master_key_id, sealed_private_key, activated_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [kid, JSON.stringify(publicJwk), id, seal(key, aadOfKey(kid, id), der), now],
    );
    return kid;
  }

  private async inLock<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [ROTATION_LOCK]);
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  master_key_id: string;
  sealed_private_key: Buffer;
  activated_at: Date;
  retired_at: Date | null;
}
