import type { RevocationsBucket } from "@otmetka/messaging";
import type { IdentityDeps } from "../commands/deps.js";
import type { LockoutPolicy } from "../domain/lockout.js";
import type { TokenSigner } from "../tokens/access-tokens.js";
import type { SigningKeyStore } from "../tokens/signing-keys.js";

/** What accounts, grants and tokens need beyond identity's command deps. */
export interface AuthDeps extends IdentityDeps {
  keys: SigningKeyStore;
  signer: TokenSigner;
  refreshTtlSeconds: number;
  /** A refresh family's absolute lifetime from its login (at least `refreshTtlSeconds`). */
  refreshFamilyMaxAgeSeconds: number;
  lockout: LockoutPolicy;
  /** The configured region: the one scope MINISTRY_OFFICER can be granted at. */
  regionId: string;
  /** The access revocation list (ChangePassword writes it directly: it appends no event). */
  revocations: RevocationsBucket;
}
