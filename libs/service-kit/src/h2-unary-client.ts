import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { context, propagation, type Span, SpanKind, trace } from "@opentelemetry/api";
import type { PromiseClient } from "./grpc-client.js";
import { endWithCode, rpcOf } from "./trace-grpc.js";

/** One method of a ts-proto service definition (`XServiceService`). */
interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: never): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

export interface H2ClientOptions {
  /** Deadline of every call (default 10 s), sent as `grpc-timeout` and enforced here. */
  timeoutMs?: number;
  /** Largest response message accepted (default 4 MiB, as grpc-js). */
  maxResponseBytes?: number;
  /** After a call's deadline, how long the session has to answer a ping (default 2 s). */
  probeMs?: number;
}

export type H2PromiseClient<C> = PromiseClient<C> & { close(): void };

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;
const { status: Status } = grpc;
const STATUS_NAMES = Status as unknown as Record<number, string>;
const RESERVED = new Set(["content-type", "grpc-status", "grpc-message", "grpc-encoding", "te"]);

/** A ServiceError as grpc-js makes one, so callers tell them apart the same way. */
function serviceError(code: number, details: string, metadata = new grpc.Metadata()) {
  return Object.assign(new Error(`${code} ${STATUS_NAMES[code] ?? "UNKNOWN"}: ${details}`), {
    code,
    details,
    metadata,
  }) as grpc.ServiceError;
}

/** gRPC's mapping of an HTTP status without grpc-status (a proxy's answer, say). */
function codeOfHttp(httpStatus: number): number {
  if (httpStatus === 400) return Status.INTERNAL;
  if (httpStatus === 401) return Status.UNAUTHENTICATED;
  if (httpStatus === 403) return Status.PERMISSION_DENIED;
  if (httpStatus === 404) return Status.UNIMPLEMENTED;
  if ([429, 502, 503, 504].includes(httpStatus)) return Status.UNAVAILABLE;
  return Status.UNKNOWN;
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function metadataOf(headers: http2.IncomingHttpHeaders): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(":") || RESERVED.has(key) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      md.add(key, key.endsWith("-bin") ? Buffer.from(v, "base64") : v);
  }
  return md;
}

/**
 * Unary gRPC calls straight on `node:http2`: one HTTP/2 session per client (opened on first
 * use, replaced once it closes or the server sends GOAWAY), one stream a call, W3C trace
 * context and CLIENT spans as `traceGrpc` gives grpc-js's clients, failures as grpc-js's
 * `ServiceError` (code, details, trailers as metadata). Why not grpc-js's client for hot
 * calls: its call stack (resolver, retry and load-balancing layers, a metadata clone and a
 * credentials promise a call) was about half of the gateway's CPU for a `recordMark`
 * (services/gateway/README.md). What it leaves out: compression (servers here send none),
 * streaming methods, load balancing over several addresses (one address, one session), and
 * retries other than one transparent retry of a stream the server refused before reading it.
 */
export function h2PromiseClient<C>(
  definition: Record<string, MethodDefinition>,
  address: string,
  options: H2ClientOptions = {},
): H2PromiseClient<C> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
  const probeMs = options.probeMs ?? 2_000;
  const tracer = trace.getTracer("@otmetka/service-kit");
  let session: http2.ClientHttp2Session | undefined;
  let closed = false;

  const currentSession = () => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(`http://${address}`);
    // Failures reach the calls as their streams close; the session is dropped for a new one.
    s.on("error", () => {});
    const drop = () => {
      if (session === s) session = undefined;
    };
    s.on("close", drop);
    s.on("goaway", drop);
    // An idle session does not keep the process alive; a call's deadline timer does.
    s.unref();
    session = s;
    return s;
  };

  /**
   * After a deadline: a connection dropped without a FIN or RST (a NAT or firewall forgetting
   * it) looks open and would time every later call out too. The session is pinged and, with no
   * answer within the probe time, destroyed: the next call opens a new one.
   */
  const probing = new WeakSet<http2.Http2Session>();
  const probe = (s: http2.Http2Session | undefined) => {
    if (!s || s.destroyed || probing.has(s)) return;
    probing.add(s);
    const dead = setTimeout(() => s.destroy(), probeMs);
    dead.unref();
    const answered = s.ping((err) => {
      clearTimeout(dead);
      probing.delete(s);
      if (err) s.destroy();
    });
    if (!answered) {
      clearTimeout(dead);
      s.destroy();
    }
  };

  const attempt = (
    def: MethodDefinition,
    frame: Buffer,
    headers: http2.OutgoingHttpHeaders,
    deadline: number,
    retried: boolean,
  ): Promise<unknown> =>
    new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = currentSession().request(headers);
      } catch (err) {
        // The session ended between the check and the request.
        session = undefined;
        reject(serviceError(Status.UNAVAILABLE, `${address}: ${(err as Error).message}`));
        return;
      }
      let httpStatus = 0;
      let code: number | undefined;
      let details = "";
      let trailers: http2.IncomingHttpHeaders = {};
      let streamError: Error | undefined;
      let failure: grpc.ServiceError | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const statusFrom = (h: http2.IncomingHttpHeaders) => {
        const s = h["grpc-status"];
        if (s === undefined) return;
        code = Number(s);
        details = percentDecoded(String(h["grpc-message"] ?? ""));
        trailers = h;
      };
      const timer = setTimeout(
        () => {
          failure = serviceError(
            Status.DEADLINE_EXCEEDED,
            `Deadline exceeded after ${timeoutMs} ms`,
          );
          stream.close(NGHTTP2_CANCEL);
          probe(stream.session);
        },
        Math.max(0, deadline - Date.now()),
      );
      stream.on("response", (h) => {
        httpStatus = Number(h[":status"]);
        // A trailers-only answer (an error) carries its status in the headers.
        statusFrom(h);
      });
      stream.on("trailers", statusFrom);
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes + 5 && !failure) {
          failure = serviceError(
            Status.RESOURCE_EXHAUSTED,
            `response larger than ${maxBytes} bytes`,
          );
          stream.close(NGHTTP2_CANCEL);
        }
        chunks.push(chunk);
      });
      stream.on("error", (err) => {
        streamError = err;
      });
      stream.on("close", () => {
        clearTimeout(timer);
        if (failure) return reject(failure);
        if (code === undefined) {
          // Refused before the server read it (GOAWAY race): safe to send once more.
          if (stream.rstCode === NGHTTP2_REFUSED_STREAM && !retried) {
            attempt(def, frame, headers, deadline, true).then(resolve, reject);
            return;
          }
          const why = streamError?.message ?? `stream closed (code ${stream.rstCode})`;
          const c = httpStatus && httpStatus !== 200 ? codeOfHttp(httpStatus) : Status.UNAVAILABLE;
          return reject(serviceError(c, `${address}: ${why}`));
        }
        if (code !== Status.OK) return reject(serviceError(code, details, metadataOf(trailers)));
        const body = Buffer.concat(chunks);
        if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
          return reject(
            serviceError(Status.INTERNAL, `${def.path}: not one uncompressed response message`),
          );
        }
        try {
          resolve(def.responseDeserialize(body.subarray(5)));
        } catch (err) {
          reject(serviceError(Status.INTERNAL, `${def.path}: ${(err as Error).message}`));
        }
      });
      stream.end(frame);
    });

  const call = async (def: MethodDefinition, request: unknown, metadata?: grpc.Metadata) => {
    if (closed) throw serviceError(Status.UNAVAILABLE, `${address}: client closed`);
    const message = def.requestSerialize(request as never);
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": def.path,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": `${timeoutMs}m`,
    };
    for (const [key, value] of Object.entries(metadata?.getMap() ?? {}))
      headers[key] = Buffer.isBuffer(value) ? value.toString("base64") : value;
    // As traceGrpc: an unsampled trace's context goes on as it is, no span of its own.
    const active = context.active();
    const parent = trace.getSpan(active);
    let span: Span | undefined;
    if (parent && !parent.isRecording()) propagation.inject(active, headers);
    else {
      const { name, attributes } = rpcOf(def.path);
      span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, active);
      propagation.inject(trace.setSpan(active, span), headers);
      if (!span.isRecording()) span = undefined;
    }
    try {
      const res = await attempt(def, frame, headers, Date.now() + timeoutMs, false);
      if (span) endWithCode(span, Status.OK);
      return res;
    } catch (err) {
      if (span) endWithCode(span, (err as grpc.ServiceError).code, (err as Error).message);
      throw err;
    }
  };

  return new Proxy({} as H2PromiseClient<C>, {
    get(_, name: string | symbol) {
      // Not a method: what inspection and `await` look for (a thenable check, a tag).
      if (typeof name === "symbol" || name === "then") return undefined;
      if (name === "close")
        return () => {
          closed = true;
          session?.close();
          session = undefined;
        };
      const def = definition[name];
      if (!def || def.requestStream || def.responseStream)
        throw new Error(`gRPC client has no unary method ${name}`);
      return (request: unknown, metadata?: grpc.Metadata) => call(def, request, metadata);
    },
  });
}
