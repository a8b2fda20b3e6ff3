// Prints the schema as committed in schema.graphql (`npm run schema:print`).
import { printSchema } from "graphql";
import { buildSchema } from "./schema/build.js";

process.stdout.write(`${printSchema(buildSchema())}\n`);
