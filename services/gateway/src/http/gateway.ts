import { readFileSync } from "node:fs";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { trace } from "@opentelemetry/api";
import type { RevocationList } from "@otmetka/messaging";
import {
  bearerMetadata,
  type Caller,
  type CallerVerifier,
  civilDateIn,
  DomainError,
  type Logger,
} from "@otmetka/service-kit";
import {
  type DocumentNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
} from "graphql";
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { type AuditSink, accessRecord } from "../audit/publisher.js";
import type { Backends } from "../backends/clients.js";
import { DashboardCache } from "../backends/dashboard-cache.js";
import { createLoaders, lazyLoaders } from "../backends/loaders.js";
import { Placements } from "../backends/placements.js";
import { DEFAULT_GATEWAY_TIME_ZONE } from "../config.js";
import { AuditCollector, type GatewayContext } from "../context.js";
import { PUBLIC_COMMANDS } from "../mutations/commands.js";
import { buildSchema } from "../schema/build.js";
import type { NoticeHub } from "../subscriptions/notices.js";
import { SubscriptionSlots } from "../subscriptions/slots.js";
import { bodyLimit, MAX_BODY_BYTES } from "./body-limit.js";
import { clientAddress } from "./client-address.js";
import { gqlError, locatedAt, toClientError, YOGA_INPUT_CODES } from "./errors.js";
import { literalInputPlace } from "./input-errors.js";
import { RateLimiter } from "./rate-limit.js";
import { type CachedResponse, dashboardResponseCache, grantsKey } from "./response-cache.js";
import { tokenClaims } from "./token-claims.js";

export interface GatewayOptions {
  backends: Backends;
  verifier: CallerVerifier;
  /**
   * Identity's revocation list (`watchRevocations` of @otmetka/messaging): a token issued no
   * later than its account's revocation (disabled, deleted, roles or password changed) or its
   * session's (logout, reused refresh token) is refused before it expires. Without it, tokens
   * live out their lifetime.
   */
  revocations?: Pick<RevocationList, "isRevoked">;
  audit: AuditSink;
  logger: Logger;
  regionId: string;
  development: boolean;
  persistedOnly: boolean;
  /** `{ "<sha256 of the document>": "<document>" }`. */
  persistedOperations?: Record<string, string>;
  limits: {
    depth: number;
    cost: number;
    aliases: number;
    tokens: number;
    perMinute: number;
    /** Directives in one document; default DEFAULT_LIMITS.directives. */
    directives?: number;
    /**
     * Requests without a token (login, refreshToken, logout) per client address a minute;
     * default DEFAULT_LIMITS.anonymousPerMinute.
     */
    anonymousPerMinute?: number;
    /**
     * Open subscriptions of one account at a time on this instance (SSE and WebSocket
     * together); default DEFAULT_LIMITS.subscriptionsPerAccount.
     */
    subscriptionsPerAccount?: number;
  };
  /** Proxies in front that append to X-Forwarded-For (client-address.ts); default 0. */
  trustedProxyHops?: number;
  now?: () => Date;
  /**
   * The region's time zone: "today" (roster, dashboards' to-date, assignment checks) is the
   * civil date there; default DEFAULT_GATEWAY_TIME_ZONE (GATEWAY_TIME_ZONE).
   */
  timeZone?: string;
  /** Reporting's change notices, for subscriptions (and the dashboard cache's invalidation). */
  notices?: NoticeHub;
  /** Dashboard answers are cached this long (ms) when `notices` is given; 0 turns it off. */
  dashboardCacheMs?: number;
  /** The largest request body (bytes); default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

export function readPersistedOperations(
  path: string | undefined,
): Record<string, string> | undefined {
  return path ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, string>) : undefined;
}

/**
 * Defaults of the optional limits (the service's configuration sets them explicitly). One
 * address may be a whole school behind NAT logging in at the first lesson, hence the
 * generous anonymous limit: it stops a flood from one address, while identity's per-account
 * lockout stops guessing at one account.
 */
export const DEFAULT_LIMITS = {
  directives: 20,
  anonymousPerMinute: 600,
  subscriptionsPerAccount: 20,
} as const;

/**
 * A document of login, refreshToken and logout only: their credentials are in the input, so
 * they run without a token (anything else in the document needs one). Answers how many such
 * fields it has (each is one attempt the per-address limit counts: aliases put up to
 * GRAPHQL_MAX_ALIASES logins in one request), 0 for any other document.
 */
function publicMutations(query: unknown): number {
  if (typeof query !== "string" || query.length > 4000) return 0;
  try {
    let fields = 0;
    for (const d of parse(query).definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION || d.operation !== "mutation") return 0;
      for (const f of d.selectionSet.selections) {
        if (f.kind !== Kind.FIELD || !PUBLIC_COMMANDS.has(f.name.value)) return 0;
        fields++;
      }
    }
    return fields;
  } catch {
    return 0;
  }
}

const ANONYMOUS = { kind: "user", accountId: "", grants: [], token: "" } as const;

interface Limiters {
  perCaller: RateLimiter;
  perAddress: RateLimiter;
  anonymousPerMinute: number;
}

async function authenticate(
  o: GatewayOptions,
  limiters: Limiters,
  request: Request,
  query: unknown,
  address: () => string,
) {
  const header = request.headers.get("authorization") ?? "";
  const token = bearerOf(header);
  const attempts = header ? 0 : publicMutations(query);
  if (attempts > 0) {
    if (!limiters.perAddress.take(address(), attempts)) {
      throw gqlError(
        "RATE_LIMITED",
        `client address: more than ${limiters.anonymousPerMinute} logins, refreshes or logouts without a token a minute`,
      );
    }
    return { ...ANONYMOUS, grants: [] };
  }
  if (!token) {
    throw gqlError(
      "UNAUTHENTICATED",
      "authorization: a Bearer access token is required",
      "authorization",
    );
  }
  return verifiedCaller(o, limiters, token);
}

/** The bearer token of an `authorization` value, or undefined (HTTP header or WS connectionParams). */
export function bearerOf(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(value)?.[1];
}

/** Verifies a token and counts one request of its caller (HTTP and WebSocket alike). */
async function verifiedCaller(o: GatewayOptions, limiters: Limiters, token: string) {
  let caller: Caller;
  try {
    caller = await o.verifier.verifyToken(token);
  } catch (err) {
    if (err instanceof DomainError) throw toClientError(err).error;
    throw err;
  }
  refuseRevoked(o, caller);
  takeRequest(o, limiters, caller);
  return caller;
}

/** Checks a caller again after its request began: what a long-lived subscription needs. */
export interface CallerAuth {
  /**
   * Throws UNAUTHENTICATED when the caller's account or session was revoked since its token
   * was issued.
   */
  refuseRevoked(caller: Caller): void;
  /** When the caller's token expires (ms), if it says. */
  expiresAt(caller: Caller): number | undefined;
  /** The error of a token that has expired. */
  expired(): Error;
}

function callerAuth(o: GatewayOptions): CallerAuth {
  return {
    refuseRevoked: (caller) => refuseRevoked(o, caller),
    expiresAt: (caller) => tokenClaims(caller.token).expiresAtMs,
    expired: () =>
      gqlError(
        "UNAUTHENTICATED",
        "authorization: token expired; subscribe again with a fresh token",
        "authorization",
      ),
  };
}

/**
 * A token issued no later than its account's or its session's revocation (identity's list) is
 * refused.
 */
function refuseRevoked(o: GatewayOptions, caller: Caller): void {
  // The token's claims are read only for an account on the list (disabled, roles changed, or
  // a session logged out within the list's TTL): not on every request.
  if (o.revocations?.isRevoked(caller.accountId, () => tokenClaims(caller.token)))
    throw gqlError(
      "UNAUTHENTICATED",
      "authorization: token revoked (its session was logged out, the account was disabled or deleted, or its roles or password changed); log in again or refresh it",
      "authorization",
    );
}

function takeRequest(o: GatewayOptions, limiters: Limiters, caller: Caller): void {
  if (!limiters.perCaller.take(caller.accountId)) {
    throw gqlError(
      "RATE_LIMITED",
      `authorization: more than ${o.limits.perMinute} requests a minute`,
    );
  }
}

/**
 * Publishes one AccessRecord for a request that returned pupils' data to staff: the pupils of
 * the audited fields the answer holds (context.ts). If the record cannot be written, the data
 * is withheld (the caller retries).
 */
function auditPlugin(o: GatewayOptions, now: () => Date): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      return {
        // Not async: a request without pupils' data (every mutation) costs no promise here.
        onExecuteDone({ result, setResult }) {
          const ctx = args.contextValue as GatewayContext;
          if (!ctx.audit || ctx.audit.empty || Symbol.asyncIterator in result) return;
          const served = ctx.audit.served(result.data);
          if (served.pupils.size === 0) return;
          return publishAccess(o, now(), args, ctx.caller, served, setResult);
        },
      };
    },
  };
}

async function publishAccess(
  o: GatewayOptions,
  at: Date,
  args: { operationName?: string | null | undefined; document: unknown },
  caller: Caller,
  served: ReturnType<AuditCollector["served"]>,
  setResult: (r: { errors: GraphQLError[] }) => void,
) {
  const op =
    args.operationName ??
    (args.document as DocumentNode).definitions.find(
      (d): d is OperationDefinitionNode => d.kind === "OperationDefinition",
    )?.name?.value ??
    "anonymous";
  const span = trace.getActiveSpan()?.spanContext().traceId ?? "";
  try {
    await o.audit.publish(accessRecord(caller, served.role ?? "", op, span, served.pupils, at));
  } catch (err) {
    o.logger.error({ err }, "access record not published; data withheld");
    setResult({
      errors: [gqlError("UNAVAILABLE", "audit: the access record could not be written; retry")],
    });
  }
}

// graphql-js's hints at names the schema has ("Did you mean "name"?", "... the enum value
// "ONE"?"): with introspection off they would give the schema away a typo at a time.
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * Yoga's parse and validation refusals skip maskError; they get conventions.md's code here.
 * With `hideSuggestions`, every error's message loses graphql-js's name suggestions.
 */
function clientErrors(hideSuggestions: boolean): Plugin {
  const retype = clientError(hideSuggestions);
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || Symbol.asyncIterator in result) return;
      const r = result as { errors?: readonly unknown[] };
      if (r.errors?.length) setResult({ ...result, errors: r.errors.map(retype) } as typeof result);
    },
  };
}

/** One error as clientErrors() answers it (the WebSocket path calls it directly). */
export function clientError(hideSuggestions: boolean): (e: unknown) => unknown {
  return (e: unknown) => {
    const err = e as GraphQLError;
    if (typeof err?.message !== "string") return e;
    const input = err.extensions && YOGA_INPUT_CODES.has(String(err.extensions.code));
    // A value in the document that does not fit its input type: the path in its argument.
    const place =
      err.extensions?.code === "GRAPHQL_VALIDATION_FAILED" ? literalInputPlace(err) : undefined;
    const full = place ? `${place.field}: ${err.message}` : err.message;
    const message = hideSuggestions ? full.replace(SUGGESTION, "") : full;
    if (!input && message === err.message) return e;
    return new GraphQLError(message, {
      ...(err.nodes ? { nodes: err.nodes } : {}),
      ...(err.path ? { path: err.path } : {}),
      extensions: input
        ? {
            ...err.extensions,
            code: "BAD_USER_INPUT",
            reason: err.extensions.code,
            ...(place ? { field: place.field } : {}),
          }
        : err.extensions,
    });
  };
}

/** The initial-context key of a WebSocket operation's caller (verified at connection init). */
export const WS_CALLER = Symbol("gateway.wsCaller");

/** What the WebSocket transport (websocket.ts) shares with the HTTP path of one gateway. */
export interface WebSocketSupport {
  logger: Logger;
  /** The largest request body (bytes): the largest WebSocket message too. */
  maxBodyBytes: number;
  hideSuggestions: boolean;
  /** Verifies a connection's token as the HTTP header's and counts one request of its caller. */
  connect(token: string): Promise<Caller>;
  /** Counts one operation of the caller against the same per-caller rate limit. */
  operation(caller: Caller): void;
  /** The document to run: the persisted one by its hash, or `query` unless persisted-only. */
  document(query: string, extensions: unknown): string;
}

const webSockets = new WeakMap<object, WebSocketSupport>();

/** The WebSocket support of a gateway made by createGateway. */
export function webSocketSupport(yoga: object): WebSocketSupport {
  const ws = webSockets.get(yoga);
  if (!ws) throw new Error("not a gateway made by createGateway");
  return ws;
}

/**
 * The persisted-operations plugin's rule (it runs in yoga's onParams, which a WebSocket
 * operation never reaches), with its error codes.
 */
function persistedDocument(o: GatewayOptions, query: string, extensions: unknown): string {
  if (!o.persistedOnly && !o.persistedOperations) return query;
  if (query) {
    if (o.persistedOnly)
      throw createGraphQLError("PersistedQueryOnly", {
        extensions: { code: "CANNOT_SEND_PQ_ID_AND_BODY" },
      });
    return query;
  }
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)
    ?.persistedQuery?.sha256Hash;
  if (typeof hash !== "string")
    throw createGraphQLError("PersistedQueryKeyNotFound", {
      extensions: { code: "PERSISTED_QUERY_ID_REQUIRED" },
    });
  const stored = o.persistedOperations?.[hash];
  if (stored === undefined)
    throw createGraphQLError("PersistedQueryNotFound", {
      extensions: { code: "PERSISTED_QUERY_NOT_IN_LIST" },
    });
  return stored;
}

export function createGateway(
  o: GatewayOptions,
): YogaServerInstance<Record<string, unknown>, GatewayContext> {
  const now = o.now ?? (() => new Date());
  const zone = o.timeZone ?? DEFAULT_GATEWAY_TIME_ZONE;
  const today = (at: Date) => civilDateIn(at, zone);
  const clock = () => now().getTime();
  const anonymousPerMinute = o.limits.anonymousPerMinute ?? DEFAULT_LIMITS.anonymousPerMinute;
  const limiters: Limiters = {
    perCaller: new RateLimiter(o.limits.perMinute, clock),
    perAddress: new RateLimiter(anonymousPerMinute, clock),
    anonymousPerMinute,
  };
  const subscriptions = new SubscriptionSlots(
    o.limits.subscriptionsPerAccount ?? DEFAULT_LIMITS.subscriptionsPerAccount,
  );
  const schema = buildSchema();
  const placements = new Placements();
  const auth = callerAuth(o);
  // Only with notices: they are what empties it.
  const dashboardCache =
    o.notices && (o.dashboardCacheMs ?? 0) > 0
      ? new DashboardCache(o.dashboardCacheMs ?? 0)
      : undefined;
  const responseCache = dashboardCache
    ? new DashboardCache<CachedResponse>(o.dashboardCacheMs ?? 0)
    : undefined;
  o.notices?.listen((n) => {
    dashboardCache?.onNotice(n);
    responseCache?.onNotice(n);
  });
  // One verification and one rate-limit token per request, whoever asks first.
  const callers = new WeakMap<Request, Promise<Caller>>();
  const callerOf = (request: Request, query: unknown, serverContext = {}) => {
    let c = callers.get(request);
    if (!c) {
      c = authenticate(o, limiters, request, query, () =>
        clientAddress(request, serverContext, o.trustedProxyHops ?? 0),
      );
      callers.set(request, c);
    }
    return c;
  };
  const plugins: Plugin[] = [
    bodyLimit(o.maxBodyBytes),
    useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] }),
    maxTokensPlugin({ n: o.limits.tokens }),
    maxDepthPlugin({ n: o.limits.depth, flattenFragments: true }),
    maxAliasesPlugin({ n: o.limits.aliases }),
    maxDirectivesPlugin({ n: o.limits.directives ?? DEFAULT_LIMITS.directives }),
    costLimitPlugin({ maxCost: o.limits.cost }),
    auditPlugin(o, now) as Plugin,
    clientErrors(!o.development),
  ];
  if (!o.development) plugins.push(useDisableIntrospection());
  if (o.persistedOnly || o.persistedOperations) {
    const store = o.persistedOperations ?? {};
    plugins.push(
      usePersistedOperations({
        getPersistedOperation: (key: string) => store[key] ?? null,
        allowArbitraryOperations: !o.persistedOnly,
      }),
    );
  }
  // After the persisted operations: a hit must not bypass persisted-only mode.
  if (responseCache)
    plugins.push(
      dashboardResponseCache({
        cache: responseCache,
        caller: callerOf,
        today: () => today(now()),
      }),
    );
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: o.development,
    landingPage: false,
    // bodyLimit() above enforces it without re-streaming every body.
    maxRequestBodySize: false,
    // Yoga's own log lines go to our logger; refused and bad requests are not errors there.
    logging: {
      debug: (...args) => o.logger.debug({ yoga: args.map(String) }, "yoga"),
      info: (...args) => o.logger.debug({ yoga: args.map(String) }, "yoga"),
      warn: (...args) => o.logger.warn({ yoga: args.map(String) }, "yoga"),
      error: (...args) => o.logger.debug({ yoga: args.map(String) }, "yoga"),
    },
    plugins,
    maskedErrors: {
      // Every error of an answer passes here; a field error keeps the place graphql-js gave it.
      maskError(error) {
        const { error: client, internal } = toClientError(error);
        if (internal)
          o.logger.error(
            { err: error instanceof GraphQLError ? (error.originalError ?? error) : error },
            "internal error",
          );
        return locatedAt(client, error);
      },
    },
    context: async (initial): Promise<GatewayContext> => {
      const { request, params } = initial;
      // The rest of the initial context is the HTTP server's (`req`, `res`): the socket. A
      // WebSocket operation's caller was verified at its connection's init (websocket.ts).
      const caller =
        (initial as { [WS_CALLER]?: Caller })[WS_CALLER] ??
        (await callerOf(request, params?.query, initial));
      const dashboardScopes = dashboardCache ? new Set<string>() : undefined;
      return {
        caller,
        backends: o.backends,
        ...(o.notices ? { notices: o.notices } : {}),
        subscriptions,
        callerAuth: auth,
        logger: o.logger,
        regionId: o.regionId,
        loaders: lazyLoaders(() =>
          createLoaders(
            o.backends,
            bearerMetadata(caller.token),
            () => today(now()),
            dashboardCache && dashboardScopes
              ? { cache: dashboardCache, grants: grantsKey(caller), scopes: dashboardScopes }
              : undefined,
          ),
        ),
        ...(dashboardScopes ? { dashboardScopes } : {}),
        placements,
        audit: new AuditCollector(),
        claims: new WeakMap(),
        today: today(now()),
        dateNow: () => today(now()),
      };
    },
  });
  webSockets.set(yoga, {
    logger: o.logger,
    maxBodyBytes: o.maxBodyBytes ?? MAX_BODY_BYTES,
    hideSuggestions: !o.development,
    connect: (token) => verifiedCaller(o, limiters, token),
    // An open socket's token is checked again on each operation: revoked since it connected?
    operation: (caller) => {
      refuseRevoked(o, caller);
      takeRequest(o, limiters, caller);
    },
    document: (query, extensions) => persistedDocument(o, query, extensions),
  });
  return yoga;
}
