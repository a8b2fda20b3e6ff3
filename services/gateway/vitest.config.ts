import { createRequire } from "node:module";
import { defineTestConfig } from "@otmetka/testing/vitest";

// graphql-yoga's dependencies require() graphql (CJS) while our code imports its ESM build;
// two copies break graphql-js's instanceof checks, so every import resolves to the CJS one.
const graphqlCjs = createRequire(import.meta.url).resolve("graphql");

export default {
  ...defineTestConfig(),
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] },
};
