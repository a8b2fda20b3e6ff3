import { randomUUID } from "node:crypto";
import type { Clock } from "@otmetka/service-kit";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "@otmetka/service-kit";
import { SignJWT } from "jose";
import type { SigningKeyStore } from "./signing-keys.js";

/** What an access token says about its holder (the contract of libs/service-kit/src/auth). */
export interface AccessClaims {
  sub: string;
  kind: "user" | "service";
  pid?: string;
  svc?: string;
  /** The session (refresh family) of a user's login: Logout revokes this session's tokens. */
  sid?: string;
  /** `ROLE@kind:id` or bare `ROLE`. */
  roles: string[];
}

export interface TokenSigner {
  readonly ttlSeconds: number;
  sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }>;
}

/** Signs EdDSA access tokens with the store's active key (`kid` in the header). */
export function createTokenSigner(
  keys: SigningKeyStore,
  clock: Clock,
  ttlSeconds: number,
): TokenSigner {
  return {
    ttlSeconds,
    async sign(c) {
      const { kid, privateKey } = await keys.activeKey();
      const iat = Math.floor(clock.now().getTime() / 1000);
      const token = await new SignJWT({
        typ_kind: c.kind,
        roles: c.roles,
        ...(c.pid ? { pid: c.pid } : {}),
        ...(c.svc ? { svc: c.svc } : {}),
        ...(c.sid ? { sid: c.sid } : {}),
      })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(c.sub)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(privateKey);
      return { token, expiresIn: ttlSeconds };
    },
  };
}
