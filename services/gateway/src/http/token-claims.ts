/**
 * The times of a token the verifier already checked (its signature and expiry), read from
 * its payload: `iat` for the revocation list, `exp` to end what outlives the request.
 */
export function tokenTimes(token: string): { issuedAtMs: number; expiresAtMs?: number } {
  try {
    const p = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    const issuedAtMs = typeof p.iat === "number" ? p.iat * 1000 : 0;
    return typeof p.exp === "number" ? { issuedAtMs, expiresAtMs: p.exp * 1000 } : { issuedAtMs };
  } catch {
    // No iat: any revocation of its account counts.
    return { issuedAtMs: 0 };
  }
}
