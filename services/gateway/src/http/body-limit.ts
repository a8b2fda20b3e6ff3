import { createGraphQLError, type Plugin } from "graphql-yoga";

/** The largest request body accepted (yoga's own default). */
export const MAX_BODY_BYTES = 25_000_000;

const tooLarge = () =>
  createGraphQLError("Request body too large", {
    extensions: { http: { status: 413 }, code: "REQUEST_ENTITY_TOO_LARGE" },
  });

/**
 * Yoga's body-size limit without its cost on every request: yoga pipes each body through a
 * TransformStream that counts bytes (a stream pipeline, an AbortSignal and a DOMException per
 * request, about a tenth of the gateway's CPU for a mutation). A body with a valid
 * Content-Length needs no counting: node:http reads exactly that many bytes and refuses a
 * request that also says `Transfer-Encoding`. Only a body without a length (chunked) is read
 * here up to the limit. Used with yoga's `maxRequestBodySize: false`, after its parsers.
 */
export function bodyLimit(limit = MAX_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get("content-length");
      if (length !== null) {
        // One non-negative integer only (a comma-joined pair is a smuggling attempt).
        if (!/^\d+$/.test(length))
          throw createGraphQLError("Content-Length header is invalid.", {
            extensions: { http: { status: 400 }, code: "BAD_REQUEST" },
          });
        if (Number(length) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (req) => {
        const chunks: Uint8Array[] = [];
        let size = 0;
        for await (const chunk of (req.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > limit) throw tooLarge();
          chunks.push(chunk);
        }
        return parse(
          new fetchAPI.Request(req.url, {
            method: req.method,
            headers: req.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
    },
  };
}
