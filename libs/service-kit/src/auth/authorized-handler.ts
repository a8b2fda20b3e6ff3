import { Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { type CallMetadata, callMetadata } from "../grpc-call-metadata.js";
import { type GrpcStatusError, toGrpcError } from "../grpc-errors.js";
import type { Caller } from "./caller.js";
import type { CallerVerifier } from "./caller-verifier.js";

/** What an authorized handler knows about its call. */
export interface AuthorizedCall {
  caller: Caller;
  /** Event metadata, with the verified caller as actor (a stated `x-actor-id` is ignored). */
  metadata: CallMetadata;
}

/** Event metadata of a verified call: the actor is the token's subject, never a header. */
export function authorizedMetadata(caller: Caller, md: Metadata): CallMetadata {
  const { actor: _stated, ...rest } = callMetadata(md);
  return {
    ...rest,
    actor: {
      id: caller.accountId,
      kind: caller.kind,
      ...(caller.personId ? { personId: caller.personId } : {}),
    },
  };
}

/**
 * Like unaryHandler, but the call is refused with UNAUTHENTICATED before `handle` runs unless
 * it carries a valid token. Scope checks (requireRole) belong in `handle`, next to the data
 * that says which school the call touches.
 */
export function authorizedHandler<Req, Res>(
  logger: Logger,
  verifier: CallerVerifier,
  handle: (request: Req, call: AuthorizedCall) => Promise<Res>,
) {
  return (
    call: { request: Req; metadata: Metadata },
    callback: (err: GrpcStatusError | null, res?: Res) => void,
  ): void => {
    verifier
      .verify(call.metadata)
      .then((caller) =>
        handle(call.request, { caller, metadata: authorizedMetadata(caller, call.metadata) }),
      )
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toGrpcError(err, logger)),
      );
  };
}

/** Metadata that forwards a token on a downstream call. */
export function bearerMetadata(token: string, base: Metadata = new Metadata()): Metadata {
  const md = base.clone();
  md.set("authorization", `Bearer ${token}`);
  return md;
}
