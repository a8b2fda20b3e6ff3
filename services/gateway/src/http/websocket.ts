import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Caller } from "@otmetka/service-kit";
import { type ExecutionArgs, GraphQLError } from "graphql";
import { CloseCode, type Context } from "graphql-ws";
import type { YogaServerInstance } from "graphql-yoga";
import { WebSocketServer } from "ws";
import type { GatewayContext } from "../context.js";
import { gqlError } from "./errors.js";
import { bearerOf, clientError, WS_CALLER, webSocketSupport } from "./gateway.js";
import { tokenClaims } from "./token-claims.js";
import { serveGraphQLWs } from "./ws-server.js";

type Gateway = YogaServerInstance<Record<string, unknown>, GatewayContext>;

/**
 * The close code of a refused connection init, by the error's code. graphql-ws has none of
 * its own for "too many requests" (4429 like HTTP's 429); an unreachable key set is the
 * standard "try again later" (1013), which graphql-ws's client retries.
 */
const CLOSE_OF: Record<string, number> = {
  UNAUTHENTICATED: CloseCode.Unauthorized,
  RATE_LIMITED: 4429,
  UNAVAILABLE: 1013,
};

// A close frame's reason holds at most 123 bytes; ours are ASCII.
const reason = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol `graphql-transport-ws`) on `server` at the
 * gateway's path, as graphql-yoga documents it: every operation runs through yoga's
 * `getEnveloped`, so the envelop plugins (limits, introspection, masking, audit) and the
 * schema's field policies run as over HTTP. Yoga's HTTP-only hooks do not, so the pieces they
 * hold are done here: the caller is verified at connection init from
 * `connectionParams.authorization` ("Bearer <token>", the header's form) with the same verifier
 * and per-caller rate limit, each operation counts one request, persisted-only mode is
 * enforced, and the largest message is the HTTP body limit.
 */
export function serveWebSocket(server: Server, yoga: Gateway): { close(): Promise<void> } {
  const support = webSocketSupport(yoga);
  const retype = clientError(support.hideSuggestions) as (e: GraphQLError) => GraphQLError;
  const callers = new WeakMap<Context, Caller>();
  // The enveloped execute and subscribe of each operation, by its arguments.
  const runners = new WeakMap<object, ReturnType<Gateway["getEnveloped"]>>();
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: support.maxBodyBytes,
  });
  const disposable = serveGraphQLWs<Record<string, unknown>>(
    {
      execute: (args) => runners.get(args)?.execute(args as ExecutionArgs),
      subscribe: (args) => runners.get(args)?.subscribe(args as ExecutionArgs),
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const token = bearerOf(ctx.connectionParams?.authorization);
        if (!token) {
          socket.close(
            CloseCode.Unauthorized,
            "UNAUTHENTICATED: connectionParams.authorization: a Bearer access token is required",
          );
          return false;
        }
        let caller: Caller;
        try {
          caller = await support.connect(token);
        } catch (err) {
          if (!(err instanceof GraphQLError)) {
            support.logger.error({ err }, "websocket connection init failed");
            socket.close(CloseCode.InternalServerError, "internal error");
            return false;
          }
          const code = String(err.extensions.code);
          socket.close(CLOSE_OF[code] ?? CloseCode.Forbidden, reason(`${code}: ${err.message}`));
          return false;
        }
        // Gone while its token was verified: its close event has passed, so a timer armed
        // now would never be cleared (it would hold the socket until the token expires).
        if (socket.readyState !== socket.OPEN) return false;
        callers.set(ctx, caller);
        // SSE streams outlive their token; a socket ends when its token does (the client
        // connects again with a fresh one). setTimeout takes at most 2^31-1 ms.
        const exp = tokenClaims(token).expiresAtMs;
        if (exp !== undefined) {
          const timer = setTimeout(
            () => socket.close(CloseCode.Unauthorized, "UNAUTHENTICATED: token expired"),
            Math.min(Math.max(exp - Date.now(), 0), 2 ** 31 - 1),
          );
          timer.unref();
          socket.once("close", () => clearTimeout(timer));
        }
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const caller = callers.get(ctx);
        if (!caller)
          return [gqlError("UNAUTHENTICATED", "authorization: a Bearer access token is required")];
        try {
          support.operation(caller);
          const query = support.document(payload.query, payload.extensions);
          const enveloped = yoga.getEnveloped({
            [WS_CALLER]: caller,
            params: { ...payload, query },
          } as never);
          const document = enveloped.parse(query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length) return errors.map(retype);
          const args = {
            schema: enveloped.schema,
            document,
            operationName: payload.operationName ?? null,
            variableValues: payload.variables ?? null,
            contextValue: await enveloped.contextFactory(),
          };
          runners.set(args, enveloped);
          return args;
        } catch (err) {
          if (err instanceof GraphQLError) return [retype(err)];
          throw err;
        }
      },
      // Yoga's result processing (HTTP only) retypes parse and input errors and drops name
      // suggestions; the same for every WebSocket result.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.length
          ? { ...result, errors: result.errors.map((e) => retype(e as GraphQLError)) }
          : undefined,
    },
    wss,
    support.logger,
  );
  return { close: async () => void (await disposable.dispose()) };
}

export interface ListeningGateway {
  server: Server;
  /** `http://<host>:<port>/graphql`; the WebSocket endpoint is the same with `ws:`. */
  url: string;
  /**
   * Stops accepting, closes every WebSocket (1001 Going away), waits for HTTP to finish; a
   * second call waits for the first.
   */
  close(): Promise<void>;
}

/** The gateway on one HTTP server: GraphQL over HTTP (and SSE) and over WebSocket. */
export async function listenGateway(
  yoga: Gateway,
  port: number | undefined,
  host: string,
): Promise<ListeningGateway> {
  const server = createServer(yoga);
  const ws = serveWebSocket(server, yoga);
  // A port in use fails the start (the WebSocket server would otherwise only log it, and
  // this would never resolve).
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await ws.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${shown}:${address.port}${yoga.graphqlEndpoint}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await ws.close();
        await closed;
      })();
      return closing;
    },
  };
}
