import type { RevocationsBucket } from "@otmetka/messaging";
import type { AuthDeps } from "./accounts/deps.js";
import type { IdentityDeps } from "./commands/deps.js";
import { DEFAULT_LOCKOUT, type LockoutPolicy } from "./domain/lockout.js";
import { createTokenSigner } from "./tokens/access-tokens.js";
import { SigningKeyStore } from "./tokens/signing-keys.js";

export interface AuthSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshFamilyMaxAgeSeconds: number;
  signingKeyRotationDays: number;
  regionId: string;
  lockout?: LockoutPolicy;
  revocations: RevocationsBucket;
}

/**
 * Accounts and tokens on top of identity's deps: reseals signing keys held under a retired
 * master key, then makes sure a signing key is active (a new one when the active key is older
 * than the rotation period).
 */
export async function createAuthDeps(
  deps: IdentityDeps,
  s: AuthSettings,
): Promise<{ auth: AuthDeps; resealed: number; activeKid: string; rotated: boolean }> {
  const keys = new SigningKeyStore(
    deps.store.pool,
    deps.masterKeys,
    deps.clock,
    s.accessTokenTtlSeconds,
  );
  const resealed = await keys.rewrap();
  const { kid, created } = await keys.ensureActiveKey(s.signingKeyRotationDays * 86_400_000);
  return {
    auth: {
      ...deps,
      keys,
      signer: createTokenSigner(keys, deps.clock, s.accessTokenTtlSeconds),
      refreshTtlSeconds: s.refreshTokenTtlSeconds,
      refreshFamilyMaxAgeSeconds: s.refreshFamilyMaxAgeSeconds,
      lockout: s.lockout ?? DEFAULT_LOCKOUT,
      regionId: s.regionId,
      revocations: s.revocations,
    },
    resealed,
    activeKid: kid,
    rotated: created,
  };
}
