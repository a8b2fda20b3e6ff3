import type { IncomingMessage } from "node:http";
import type { Logger } from "@otmetka/service-kit";
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";

export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/**
 * graphql-ws's protocol server (`makeServer`) on a `ws` server: graphql-ws's own `useServer`
 * for `ws`, with the same keep-alive and closing, except that its errors go to the gateway's
 * logger. `useServer` writes them with console.error, stack and all, one per bad frame, so
 * any client could fill the console (e.g. a message over the size limit).
 */
export function serveGraphQLWs<P extends Record<string, unknown>>(
  options: ServerOptions<P, SocketExtra>,
  wss: WebSocketServer,
  logger: Logger,
  keepAliveMs = 12_000,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  // The HTTP server's errors are re-emitted here (ws); without a listener they would throw.
  wss.on("error", (err) => logger.error({ err }, "websocket server error"));
  wss.on("connection", (socket, request) => {
    // A frame that breaks the protocol or the size limit: ws has closed the socket with the
    // matching code (1009, 1002, 1007) already. The client's doing, so no stack.
    socket.on("error", (err: Error & { code?: string }) => {
      logger.warn(
        { code: err.code, reason: err.message },
        "websocket closed on a client's bad frame",
      );
      if (socket.readyState === socket.OPEN)
        socket.close(CloseCode.InternalServerError, "Internal server error");
    });
    let pongWait: NodeJS.Timeout | undefined;
    const ping =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once("pong", () => clearTimeout(pongWait));
            socket.ping();
          }, keepAliveMs)
        : undefined;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on("message", async (data) => {
            try {
              await cb(String(data));
            } catch (err) {
              // A hook or a send failed: the gateway's fault, logged; the client learns nothing.
              logger.error({ err }, "websocket message handling failed");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request },
    );
    socket.once("close", (code, reason) => {
      clearTimeout(pongWait);
      clearInterval(ping);
      // Ends every subscription of the socket (their iterators' return).
      closed(code, String(reason)).catch((err) =>
        logger.error({ err }, "websocket close handling failed"),
      );
    });
  });
  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) =>
        wss.close((err) => (err ? reject(err) : resolve())),
      );
    },
  };
}
