import { createRequire } from "node:module";
import { defineTestConfig } from "@otmetka/testing/vitest";

// graphql-yoga's dependencies require() graphql (CJS) while our code imports its ESM build;
// two copies break graphql-js's instanceof checks, so every import resolves to the CJS one.
const graphqlCjs = createRequire(import.meta.url).resolve("graphql");

// One module graph for all files (isolate: false): importing it again for every file was a
// fifth of the run. The files share no module state a test reads (caches of pure lookups
// only), and each test file still has its own database, NATS prefix and servers.
export default {
  ...defineTestConfig({ isolate: false }),
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] },
};
