import http2 from "node:http2";

/**
 * Unary gRPC calls on `node:http2` alone, for load generation: one HTTP/2 session, one stream
 * a call, the length-prefixed request out, the status from the trailers. It is the bench's
 * load generator, not a client library: no retries, deadlines, interceptors or channel state,
 * because on a 2-core machine grpc-js's client costs about as much CPU a call as the server
 * under test (grades-cpu: 0.2-0.4 ms against the server's 0.25-0.3), and that CPU is taken
 * from the service and PostgreSQL on the same cores, while the raw append it is compared with
 * has only the pg driver as its client. Any status but OK rejects with the status and message.
 */
export class H2Unary {
  private readonly session: http2.ClientHttp2Session;

  constructor(
    address: string,
    private readonly headers: Record<string, string>,
  ) {
    this.session = http2.connect(`http://${address}`);
    this.session.on("error", () => {});
  }

  call(path: string, message: Uint8Array): Promise<void> {
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        ...this.headers,
      });
      let status: string | undefined;
      let detail = "";
      const statusFrom = (h: http2.IncomingHttpHeaders) => {
        const s = h["grpc-status"];
        if (s === undefined) return;
        status = String(s);
        detail = decodeURIComponent(String(h["grpc-message"] ?? ""));
      };
      // A trailers-only answer (an error) carries its status in the response headers.
      stream.on("response", statusFrom);
      stream.on("trailers", statusFrom);
      stream.on("data", () => {});
      stream.on("error", reject);
      stream.on("close", () => {
        if (status === "0") resolve();
        else reject(new Error(`${path}: grpc-status ${status ?? "(none)"} ${detail}`));
      });
      stream.end(frame);
    });
  }

  close() {
    this.session.close();
  }
}
