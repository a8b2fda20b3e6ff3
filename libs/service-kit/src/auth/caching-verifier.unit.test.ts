import { Metadata } from "@grpc/grpc-js";
import { expect, it } from "vitest";
import { DomainError } from "../domain-error.js";
import { cachingVerifier } from "./caching-verifier.js";
import type { Caller } from "./caller.js";
import type { CallerVerifier } from "./caller-verifier.js";

const token = (exp: number) =>
  ["e30", Buffer.from(JSON.stringify({ exp })).toString("base64url"), "sig"].join(".");

function fake() {
  const calls: string[] = [];
  const inner: CallerVerifier = {
    verify: () => Promise.reject(new Error("unused")),
    verifyToken: async (t) => {
      calls.push(t);
      if (t.endsWith("bad")) throw new DomainError("unauthenticated", "authorization: bad");
      return { kind: "user", accountId: "a", grants: [], token: t } as Caller;
    },
  };
  return { inner, calls };
}

it("verifies a token once, until it expires or the maximum age passes", async () => {
  const { inner, calls } = fake();
  let now = 1_000_000;
  const v = cachingVerifier(inner, { maxAgeMs: 60_000, now: () => now });
  const short = token(now / 1000 + 10);
  await v.verifyToken(short);
  await v.verifyToken(short);
  expect(calls).toHaveLength(1);
  now += 11_000;
  await v.verifyToken(short);
  expect(calls).toHaveLength(2);
  const long = token(now / 1000 + 3600);
  const md = new Metadata();
  md.set("authorization", `Bearer ${long}`);
  await v.verify(md);
  now += 59_000;
  await v.verify(md);
  expect(calls).toHaveLength(3);
  now += 2_000;
  await v.verify(md);
  expect(calls).toHaveLength(4);
});

it("never remembers a refusal", async () => {
  const { inner, calls } = fake();
  const v = cachingVerifier(inner);
  await expect(v.verifyToken("x.y.bad")).rejects.toThrow(/bad/);
  await expect(v.verifyToken("x.y.bad")).rejects.toThrow(/bad/);
  expect(calls).toHaveLength(2);
  await expect(v.verify(new Metadata())).rejects.toMatchObject({ kind: "unauthenticated" });
});
