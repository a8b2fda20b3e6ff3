// Types only: the module itself is handed in (see telemetry.ts on load order).
import type * as Grpc from "@grpc/grpc-js";
import {
  type Context,
  context,
  type Histogram,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";

type GrpcModule = typeof Grpc;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  originalName?: string;
}

const metadataGetter: TextMapGetter<Grpc.Metadata> = {
  get: (md, key) => {
    const v = md.get(key);
    return v.length === 0 ? undefined : v.length === 1 ? String(v[0]) : v.map(String);
  },
  keys: (md) => Object.keys(md.getMap()),
};

/** `/pkg.Service/Method` → span name `grpc.pkg.Service/Method` and its rpc attributes. */
export function rpcOf(path: string) {
  const [service = "", method = ""] = path.slice(1).split("/");
  return {
    name: `grpc.${path.slice(1)}`,
    attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method },
  };
}

/** Ends a recording span with the call's gRPC status code. */
export function endWithCode(span: Span, code: number, message?: string) {
  span.setAttribute("rpc.grpc.status_code", code);
  if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  span.end();
}

/**
 * CLIENT and SERVER spans for @grpc/grpc-js, W3C context in the call metadata. Replaces
 * @opentelemetry/instrumentation-grpc, whose every call (sampled or not) spreads the arguments,
 * parses the target, binds the callback and the call's emitter to the context, wraps
 * `sendMetadata` with shimmer and formats a debug message. Here a call of an unsampled trace
 * costs the client one `inject` (no client span: the caller's span context goes on, so the
 * callee makes the same sampling decision) and the server one extraction, one non-recording
 * span and one context switch. Returns the undo.
 */
export function traceGrpc(grpc: GrpcModule, tracer: Tracer, serverDuration?: Histogram) {
  const undo: (() => void)[] = [];

  // Clients: ts-proto's generated classes come from makeGenericClientConstructor, whose
  // methods capture Client.prototype's request functions: each generated method is wrapped.
  for (const key of ["makeClientConstructor", "makeGenericClientConstructor"] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(grpc, key);
    const make = grpc[key];
    const traced = function (this: unknown, ...args: Parameters<typeof make>) {
      const ctor = make.apply(this, args);
      const methods = args[0] as unknown as Record<string, MethodDefinition>;
      const proto = ctor.prototype as Record<string, AnyFunction>;
      for (const [name, def] of Object.entries(methods)) {
        const original = proto[name];
        if (!original) continue;
        const wrapped = tracedClientMethod(grpc, tracer, original, def);
        proto[name] = wrapped;
        if (def.originalName && proto[def.originalName] === original)
          proto[def.originalName] = wrapped;
      }
      return ctor;
    } as typeof make;
    Object.defineProperty(grpc, key, { value: traced, configurable: true, enumerable: true });
    undo.push(() => {
      if (descriptor) Object.defineProperty(grpc, key, descriptor);
    });
  }

  // Servers: every handler registered runs inside its SERVER span.
  const server = grpc.Server.prototype as unknown as { register: AnyFunction };
  const register = server.register;
  server.register = function (this: unknown, ...args: unknown[]) {
    const [path, handler, , , type] = args as [string, AnyFunction, unknown, unknown, string];
    args[1] = tracedHandler(tracer, path, handler, type, serverDuration);
    return register.apply(this, args);
  };
  undo.push(() => {
    server.register = register;
  });
  return () => {
    for (const u of undo.reverse()) u();
  };
}

function tracedClientMethod(
  grpc: GrpcModule,
  tracer: Tracer,
  original: AnyFunction,
  def: MethodDefinition,
): AnyFunction {
  const { name, attributes } = rpcOf(def.path);
  const metadataAt = def.requestStream ? 0 : 1;
  const method = function (this: unknown, ...args: unknown[]) {
    let md = args.find((a): a is Grpc.Metadata => a instanceof grpc.Metadata);
    if (!md) {
      md = new grpc.Metadata();
      args.splice(metadataAt, 0, md);
    }
    const active = context.active();
    const parent = trace.getSpan(active);
    // An unsampled trace records nothing below: its span context goes on as it is.
    if (parent && !parent.isRecording()) {
      propagation.inject(active, md, { set: (m, k, v) => m.set(k, v) });
      return original.apply(this, args);
    }
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, active);
    propagation.inject(trace.setSpan(active, span), md, { set: (m, k, v) => m.set(k, v) });
    if (!span.isRecording()) return original.apply(this, args);
    const last = args.length - 1;
    const callback = args[last];
    if (!def.responseStream && typeof callback === "function") {
      args[last] = (err: Grpc.ServiceError | null, res: unknown) => {
        endWithCode(span, err?.code ?? 0, err?.message);
        (callback as AnyFunction)(err, res);
      };
      return original.apply(this, args);
    }
    const call = original.apply(this, args) as Grpc.ClientReadableStream<unknown>;
    call.once("status", (s: Grpc.StatusObject) => endWithCode(span, s.code, s.details));
    return call;
  };
  return Object.assign(method, original);
}

function tracedHandler(
  tracer: Tracer,
  path: string,
  handler: AnyFunction,
  type: string,
  duration: Histogram | undefined,
): AnyFunction {
  const { name, attributes } = rpcOf(path);
  return function (this: unknown, call: unknown, callback?: unknown) {
    const c = call as Grpc.ServerUnaryCall<unknown, unknown>;
    const parent = propagation.extract(ROOT_CONTEXT, c.metadata, metadataGetter);
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
    const ctx: Context = trace.setSpan(parent, span);
    if (!span.isRecording() && !duration) return context.with(ctx, handler, this, call, callback);
    if (span.isRecording()) span.setAttributes(attributes);
    const start = performance.now();
    const done = (code: number, message?: string) => {
      duration?.record((performance.now() - start) / 1000, {
        ...attributes,
        "rpc.grpc.status_code": code,
      });
      if (span.isRecording()) endWithCode(span, code, message);
    };
    if ((type === "unary" || type === "clientStream") && typeof callback === "function") {
      const cb = (err: Grpc.ServiceError | null, ...rest: unknown[]) => {
        done(err ? (err.code ?? 2) : 0, err?.message);
        return (callback as AnyFunction)(err, ...rest);
      };
      return context.with(ctx, handler, this, call, cb);
    }
    const stream = c as unknown as NodeJS.EventEmitter;
    stream.once("finish", () => done(0));
    stream.once("error", (err: Grpc.ServiceError) => done(err.code ?? 2, err.message));
    stream.once("cancelled", () => done(1, "cancelled"));
    return context.with(ctx, handler, this, call, callback);
  };
}
