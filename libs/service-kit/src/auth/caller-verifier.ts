import type { Metadata } from "@grpc/grpc-js";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import type { Clock } from "../clock.js";
import { DomainError } from "../domain-error.js";
import { cachingVerifier } from "./caching-verifier.js";
import type { Caller } from "./caller.js";
import { parseRoleClaim } from "./roles.js";

export const TOKEN_ISSUER = "otmetka-identity";
export const TOKEN_AUDIENCE = "otmetka";
/** Identity signs with Ed25519; nothing else is accepted (never `none`, never HMAC). */
export const TOKEN_ALGORITHMS = ["EdDSA"] as const;

export interface CallerVerifierOptions {
  /** Identity's JWKS, e.g. http://127.0.0.1:50061/.well-known/jwks.json. */
  jwksUrl: string;
  issuer?: string;
  audience?: string;
  clock?: Clock;
  /** Skew tolerated on exp/nbf/iat between machines (default 5 s). */
  clockToleranceSeconds?: number;
  /**
   * The least time between two JWKS fetches triggered by an unknown key id (default 5 s).
   * Small, so a key published at rotation is picked up at once; the fetch result is cached.
   */
  refetchCooldownMs?: number;
  /**
   * How long a verified token's caller is remembered (never past its `exp`); default 60 s,
   * 0 turns it off. A client sends the same token on every call, and an EdDSA check costs
   * more CPU than most commands; a key withdrawn from the JWKS stops being trusted within it.
   */
  cacheMaxAgeMs?: number;
}

export interface CallerVerifier {
  /** The verified caller of a call, from its `authorization: Bearer <jwt>` header. */
  verify(md: Metadata): Promise<Caller>;
  verifyToken(token: string): Promise<Caller>;
}

const unauthenticated = (why: string) =>
  new DomainError("unauthenticated", `authorization: ${why}`);

/** Why a token was refused, in words a client can act on; never the token itself. */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return unauthenticated("token expired");
  if (err instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated("token algorithm not allowed");
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthenticated("token signature is invalid");
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return unauthenticated("token signed by an unknown key");
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthenticated(`token claim ${err.claim} is invalid (${err.reason})`);
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return unauthenticated("token is malformed");
  }
  if (err instanceof errors.JOSENotSupported)
    return unauthenticated("token uses an unsupported key or algorithm");
  // The JWKS could not be fetched (timeout, refused, bad document): the token may be fine.
  if (
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    err instanceof TypeError
  ) {
    return new DomainError("unavailable", "authorization: the key set cannot be fetched; retry");
  }
  return err instanceof Error ? err : new Error(String(err));
}

function callerOf(payload: JWTPayload, token: string): Caller {
  const { sub, typ_kind: kind, pid, svc, roles } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== "string" || sub === "") throw unauthenticated("token has no subject");
  if (kind !== "user" && kind !== "service")
    throw unauthenticated("token claim typ_kind is invalid");
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
    throw unauthenticated("token claim roles is invalid");
  }
  return {
    kind,
    accountId: sub,
    ...(typeof pid === "string" && pid !== "" ? { personId: pid } : {}),
    ...(typeof svc === "string" && svc !== "" ? { service: svc } : {}),
    grants: roles.map((r: string) => parseRoleClaim(r)),
    token,
  };
}

const BEARER = /^Bearer ([A-Za-z0-9_\-.]+)$/;

/** Reads the bearer token of a call; refuses a missing or malformed header. */
export function bearerToken(md: Metadata): string {
  const values = md.get("authorization");
  if (values.length === 0) throw unauthenticated("missing (send 'authorization: Bearer <token>')");
  if (values.length > 1) throw unauthenticated("sent more than once");
  const m = typeof values[0] === "string" ? BEARER.exec(values[0]) : null;
  if (!m?.[1]) throw unauthenticated("is not 'Bearer <token>'");
  return m[1];
}

/**
 * Verifies callers against identity's JWKS. Keys are fetched once and cached (jose refetches
 * when a token names a key id it has not seen, which is how rotation reaches every service).
 */
export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.refetchCooldownMs ?? 5_000,
    timeoutDuration: 5_000,
  });
  const verifyToken = async (token: string): Promise<Caller> => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer ?? TOKEN_ISSUER,
        audience: options.audience ?? TOKEN_AUDIENCE,
        algorithms: [...TOKEN_ALGORITHMS],
        clockTolerance: options.clockToleranceSeconds ?? 5,
        requiredClaims: ["exp", "sub"],
        ...(options.clock ? { currentDate: options.clock.now() } : {}),
      });
      return callerOf(payload, token);
    } catch (err) {
      throw err instanceof DomainError ? err : refusal(err);
    }
  };
  const verifier: CallerVerifier = {
    verify: async (md) => verifyToken(bearerToken(md)),
    verifyToken,
  };
  const maxAgeMs = options.cacheMaxAgeMs ?? 60_000;
  return maxAgeMs > 0 ? cachingVerifier(verifier, { maxAgeMs }) : verifier;
}
