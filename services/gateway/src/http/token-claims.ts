import type { RevocableToken } from "@otmetka/messaging";

/**
 * The claims of a token the verifier already checked (its signature and expiry), read from
 * its payload: `iat` and `sid` (its session) for the revocation list, `exp` to end what
 * outlives the request.
 */
export function tokenClaims(token: string): RevocableToken & { expiresAtMs?: number } {
  try {
    const p = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    // No iat: any revocation of its account counts. No sid (issued before sessions were
    // named): only its account's revocations count.
    return {
      iat: typeof p.iat === "number" ? p.iat : 0,
      ...(typeof p.sid === "string" ? { sid: p.sid } : {}),
      ...(typeof p.exp === "number" ? { expiresAtMs: p.exp * 1000 } : {}),
    };
  } catch {
    return { iat: 0 };
  }
}
