import {
  type ASTNode,
  BREAK,
  type GraphQLError,
  Kind,
  parse,
  type Source,
  type ValueNode,
  visit,
} from "graphql";

/*
 * graphql-js refuses input that does not fit the schema's input types (a value off an enum, a
 * required field missing, an unknown field) with messages that name the variable or point at
 * the document, not at the argument's field. These turn such a refusal into the gateway's
 * form: `field` is the path from the argument (`input.mark.value`, `input.marks[1].studentId`)
 * and the message starts with it, as the gateway's own input errors do.
 */

const isNode = (x: unknown): x is ASTNode =>
  typeof x === "object" && x !== null && typeof (x as { kind?: unknown }).kind === "string";

/** The path, from its argument, of the first value node of `doc` that `want` matches. */
function argumentPathOf(doc: ASTNode, want: (n: ASTNode) => boolean): string | undefined {
  const walk = (v: ValueNode, path: string): string | undefined => {
    if (want(v)) return path;
    if (v.kind === Kind.OBJECT)
      for (const f of v.fields) {
        const p = `${path}.${f.name.value}`;
        const found = want(f) ? p : walk(f.value, p);
        if (found) return found;
      }
    if (v.kind === Kind.LIST)
      for (const [i, x] of v.values.entries()) {
        const found = walk(x, `${path}[${i}]`);
        if (found) return found;
      }
    return undefined;
  };
  let found: string | undefined;
  visit(doc, {
    Argument(arg) {
      found = want(arg) ? arg.name.value : walk(arg.value, arg.name.value);
      return found ? BREAK : undefined;
    },
  });
  return found;
}

const sameNode = (target: ASTNode) => (n: ASTNode) =>
  n.kind === target.kind && n.loc?.start === target.loc?.start;

function documentOf(source: Source | undefined): ASTNode | undefined {
  if (!source) return undefined;
  try {
    return parse(source);
  } catch {
    return undefined;
  }
}

// A field named by graphql-js's message but not by the error's place: missing or unknown.
const NAMED_FIELD = [
  /^Field "(?:\w+\.)?(\w+)" of required type "[^"]*" was not provided\./,
  /^Field "(\w+)" is not defined by type "\w+"\./,
];
const namedField = (message: string) => {
  for (const re of NAMED_FIELD) {
    const m = re.exec(message);
    if (m?.[1]) return m[1];
  }
  return undefined;
};

const VARIABLE_PATH = / at "(\w+)((?:\.\w+|\[\d+\])*)"$/;

export interface InputPlace {
  /** The path from the argument, e.g. `input.mark.value`. */
  field: string;
  /** What is wrong there, without graphql-js's echo of the variable's value. */
  detail: string;
}

/**
 * Where a variable coercion error (`Variable "$i" got invalid value … at "i.mark.value"; …`)
 * is in the argument the variable feeds, or undefined for other errors.
 */
export function variableInputPlace(err: GraphQLError): InputPlace | undefined {
  const def = err.nodes?.[0];
  if (def?.kind !== Kind.VARIABLE_DEFINITION) return undefined;
  const name = def.variable.name.value;
  const inner = err.originalError;
  const detail = inner?.message ?? err.message;
  const prefix =
    inner && err.message.endsWith(`; ${inner.message}`)
      ? err.message.slice(0, -inner.message.length - 2)
      : "";
  const at = VARIABLE_PATH.exec(prefix);
  let rest = at?.[1] === name ? (at[2] ?? "") : "";
  const named = namedField(detail);
  if (named) rest += `.${named}`;
  const doc = documentOf(err.source);
  const usage = doc
    ? argumentPathOf(doc, (n) => n.kind === Kind.VARIABLE && n.name.value === name)
    : undefined;
  // A typed error of a scalar (JSONObject, Date) names its type or argument first: the path
  // replaces it.
  const own =
    inner && "extensions" in inner && (inner as GraphQLError).extensions?.code
      ? detail.replace(/^[\w.$[\]]+: /, "")
      : detail;
  return { field: `${usage ?? `$${name}`}${rest}`, detail: own };
}

/** Where a validation error about a value written in the document is, or undefined. */
export function literalInputPlace(err: GraphQLError): InputPlace | undefined {
  const nodes = err.nodes ?? [];
  const doc = documentOf(err.source);
  if (!doc) return undefined;
  // A variable used where another type belongs: the place is where it is used.
  const target = nodes.find((n) => n.kind !== Kind.VARIABLE_DEFINITION);
  if (!isNode(target)) return undefined;
  const required = /argument "(\w+)" of type "[^"]*" is required/.exec(err.message);
  if (target.kind === Kind.FIELD && required?.[1])
    return { field: required[1], detail: err.message };
  const path = argumentPathOf(doc, sameNode(target));
  if (!path) return undefined;
  const named = target.kind === Kind.OBJECT ? namedField(err.message) : undefined;
  return { field: named ? `${path}.${named}` : path, detail: err.message };
}
