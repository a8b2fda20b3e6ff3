import type { Caller } from "./caller.js";
import { bearerToken, type CallerVerifier } from "./caller-verifier.js";

export interface CachingVerifierOptions {
  /** Longest a verified token is trusted without verifying it again (default 60 s). */
  maxAgeMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** The token's `exp` (ms), read from its payload once the signature has been verified. */
function expiresAt(token: string): number {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    );
    return typeof payload.exp === "number" ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}

/**
 * Remembers the caller of a verified token, keyed by the token's exact bytes, until the token
 * expires (at most `maxAgeMs`): a teacher entering a column of marks sends the same token on
 * every call, and an EdDSA verification costs more CPU than deciding the mark. Refusals are
 * never remembered. The same bytes always verify the same way while the key set holds, so
 * this only skips repeating work; a key withdrawn from the JWKS stops being trusted here
 * within `maxAgeMs`.
 */
export function cachingVerifier(
  inner: CallerVerifier,
  o: CachingVerifierOptions = {},
): CallerVerifier {
  const maxAge = o.maxAgeMs ?? 60_000;
  const maxEntries = o.maxEntries ?? 10_000;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { caller: Caller; until: number }>();
  const verifyToken = async (token: string): Promise<Caller> => {
    const t = now();
    const hit = cache.get(token);
    if (hit && hit.until > t) return hit.caller;
    cache.delete(token);
    const caller = await inner.verifyToken(token);
    cache.set(token, { caller, until: Math.min(t + maxAge, expiresAt(token)) });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return caller;
  };
  return { verify: async (md) => verifyToken(bearerToken(md)), verifyToken };
}
