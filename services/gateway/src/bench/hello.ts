// The benchmark's baseline (npm run bench:gateway): a bare graphql-yoga server answering
// `{ hello }`, no plugins, on node:http like the gateway.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const yoga = createYoga({
  schema: createSchema({
    typeDefs: "type Query { hello: String! }",
    resolvers: { Query: { hello: () => "world" } },
  }),
  logging: false,
  landingPage: false,
});
const port = Number(process.env.HTTP_PORT ?? 4100);
createServer(yoga).listen(port, "127.0.0.1", () => {
  process.stdout.write(`hello listening on ${port}\n`);
});
