import { randomUUID } from "node:crypto";
import { loadAggregate } from "@otmetka/eventstore";
import { PersonalData } from "@otmetka/proto/identity/v1/identity_service";
import { accountsOfPerson, requireNoAccountSincePlan } from "../accounts/accounts.js";
import { aadOf, newDataKey, open, seal } from "../crypto/aead.js";
import { nameTokens } from "../crypto/blind-index.js";
import { deleteDataKey, findDataKey, insertDataKey } from "../crypto/person-keys.js";
import { accountStatusDecider, ERASURE_REASON } from "../domain/account-status.js";
import { invalidInput, notFound, refused } from "../domain/errors.js";
import { type PersonKind, type PersonState, personDecider } from "../domain/person.js";
import { nameText, validatePersonalData } from "../domain/personal-data.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId, requireName } from "../domain/validators.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { inOpenSchool, loadSchool } from "./organisations.js";
import { decideOnStream, runCommand, runPlan } from "./run-command.js";

const KINDS = new Set([1, 2, 3]);

export interface RegisterPersonInput {
  commandId: string;
  kind: PersonKind;
  schoolId: string;
  personalData?: PersonalData | undefined;
}

/**
 * A new person gets a fresh data key; their personal data goes into the event encrypted under
 * it, the key goes (wrapped) into person_keys and the name's blind-index tokens into
 * person_name_index, all in the transaction of the event.
 */
export async function registerPerson(
  deps: IdentityDeps,
  input: RegisterPersonInput,
  ctx: CallContext = {},
): Promise<{ personId: string }> {
  const commandId = requireCommandId(input.commandId);
  if (!KINDS.has(input.kind)) throw invalidInput("kind", "must be STUDENT, STAFF or GUARDIAN");
  const schoolId = requireId("school_id", input.schoolId);
  const school = await loadSchool(deps, "school_id", schoolId);
  const personal = validatePersonalData(input.personalData, deps.clock, school.timeZone);
  const personId = randomUUID();
  const dataKey = newDataKey();
  const personalData = seal(
    dataKey,
    aadOf.personalData(personId),
    PersonalData.encode(personal).finish(),
  );
  const tokens = nameTokens(deps.blindIndexKey, schoolId, nameText(personal));
  const { result } = await runPlan(deps.store, {
    commandId,
    plan: async () => {
      const appends = await inOpenSchool(deps, schoolId, async () => [
        await decideOnStream(deps.store, streamIds.person(personId), personDecider, {
          type: "RegisterPerson",
          personId,
          kind: input.kind,
          schoolId,
          municipalityId: school.municipalityId,
          personalData,
        }),
      ]);
      return { appends, result: { personId } };
    },
    // The hash of the plaintext request would let anyone holding the commands table test
    // guesses of a person's data: the payload hashes the ciphertext-free, name-free part plus
    // the blind-index tokens, which are keyed.
    payload: {
      type: "RegisterPerson",
      kind: input.kind,
      schoolId,
      tokens: tokens.map((t) => t.toString("base64")),
    },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    alsoWrite: async (client) => {
      await insertDataKey(client, deps.masterKeys, personId, dataKey);
      for (const token of tokens) {
        await client.query(
          "INSERT INTO person_name_index (school_id, token, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          [schoolId, token, personId],
        );
      }
    },
  });
  return result;
}

/** The person's state, or NOT_FOUND naming `field`. */
export async function loadPerson(
  deps: IdentityDeps,
  field: string,
  personId: string,
): Promise<PersonState> {
  const { state } = await loadAggregate(deps.store, streamIds.person(personId), personDecider);
  if (!state.registered) throw notFound(field, "person", personId);
  return state;
}

async function legalHoldCommand(
  deps: IdentityDeps,
  type: "PlaceLegalHold" | "LiftLegalHold",
  input: { commandId: string; personId: string; reason: string },
  ctx: CallContext,
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  const reason = requireName("reason", input.reason, 500);
  await loadPerson(deps, "person_id", personId);
  await runCommand(deps.store, {
    streamId: streamIds.person(personId),
    decider: personDecider,
    command: { type, reason },
    commandId,
    payload: { type, personId, reason },
    result: () => ({}),
    ...ctx,
  });
}

export const placeLegalHold = (
  deps: IdentityDeps,
  input: { commandId: string; personId: string; reason: string },
  ctx: CallContext = {},
) => legalHoldCommand(deps, "PlaceLegalHold", input, ctx);

export const liftLegalHold = (
  deps: IdentityDeps,
  input: { commandId: string; personId: string; reason: string },
  ctx: CallContext = {},
) => legalHoldCommand(deps, "LiftLegalHold", input, ctx);

/**
 * Crypto-shredding: PersonErased and the deletion of the person's key row commit together.
 * Then VACUUM FULL rewrites person_keys: a DELETE only marks the row dead, and its bytes (the
 * wrapped key) would stay readable in the table's data file until the space is reused; the
 * rewrite leaves a file without them. It cannot run inside the transaction.
 *
 * Their accounts go too (a username may be a name, and nobody logs in as an erased person),
 * each as DeleteAccount would: AccountDeleted on account-<id> in the same command, so the
 * read models drop their grants and status now and on a rebuild (a PLATFORM_ADMIN grant left
 * behind would, for one, keep the bootstrap admin from being created).
 */
export async function erasePerson(
  deps: IdentityDeps,
  input: { commandId: string; personId: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  await loadPerson(deps, "person_id", personId);
  let accountIds: string[] = [];
  await runPlan(deps.store, {
    commandId,
    payload: { type: "ErasePerson", personId },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const appends = [
        await decideOnStream(deps.store, streamIds.person(personId), personDecider, {
          type: "ErasePerson",
        }),
      ];
      accountIds = await accountsOfPerson(deps.store.pool, personId);
      for (const accountId of accountIds) {
        appends.push(
          await decideOnStream(deps.store, streamIds.account(accountId), accountStatusDecider, {
            type: "DeleteAccount",
            accountId,
            reason: ERASURE_REASON,
          }),
        );
      }
      return { appends, result: {} };
    },
    alsoWrite: async (client) => {
      await deleteDataKey(client, personId);
      // Refresh families and tokens cascade. An account opened after the plan read them has
      // no AccountDeleted yet: plan again.
      const { rows } = await client.query<{ account_id: string }>(
        "DELETE FROM accounts WHERE person_id = $1 RETURNING account_id",
        [personId],
      );
      requireNoAccountSincePlan(
        accountIds,
        rows.map((r) => r.account_id),
      );
    },
  });
  // Also on a replay: a retry after a failed VACUUM (the erasure itself committed) redoes it.
  await deps.store.pool.query("VACUUM FULL person_keys");
}

/** The data key of a person who exists and is not erased; typed errors otherwise. */
async function dataKeyOf(deps: IdentityDeps, personId: string): Promise<Buffer> {
  const key = await findDataKey(deps.store.pool, deps.masterKeys, personId);
  if (key) return key;
  const person = await loadPerson(deps, "person_id", personId);
  if (person.erased) throw refused("person_id", "is erased: their data can no longer be decrypted");
  throw refused("person_id", "has no data key");
}

export async function encryptForPerson(
  deps: IdentityDeps,
  input: { personId: string; plaintext: Uint8Array },
): Promise<Buffer> {
  const personId = requireId("person_id", input.personId);
  if (input.plaintext.length > 64 * 1024) throw invalidInput("plaintext", "must be at most 64 KiB");
  return seal(await dataKeyOf(deps, personId), aadOf.external(personId), input.plaintext);
}

export async function decryptForPerson(
  deps: IdentityDeps,
  input: { personId: string; ciphertext: Uint8Array },
): Promise<Buffer> {
  const personId = requireId("person_id", input.personId);
  const plaintext = open(
    await dataKeyOf(deps, personId),
    aadOf.external(personId),
    input.ciphertext,
  );
  if (!plaintext) {
    throw invalidInput("ciphertext", "is not a ciphertext of this person (or was altered)");
  }
  return plaintext;
}

/**
 * New personal data under the person's existing key; the name index is replaced in every
 * school the person is indexed in.
 */
export async function changePersonalData(
  deps: IdentityDeps,
  input: { commandId: string; personId: string; personalData?: PersonalData | undefined },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const personId = requireId("person_id", input.personId);
  const person = await loadPerson(deps, "person_id", personId);
  const school = await loadSchool(deps, "school_id", person.schoolId);
  const personal = validatePersonalData(input.personalData, deps.clock, school.timeZone);
  if (person.erased) throw refused("person_id", "is erased");
  const key = await findDataKey(deps.store.pool, deps.masterKeys, personId);
  if (!key) throw refused("person_id", "has no data key");
  const schools = new Set([
    person.schoolId,
    ...person.enrollments.map((p) => p.schoolId),
    ...person.staffSchools,
  ]);
  const name = nameText(personal);
  await runCommand(deps.store, {
    streamId: streamIds.person(personId),
    decider: personDecider,
    command: {
      type: "ChangePersonalData",
      personalData: seal(key, aadOf.personalData(personId), PersonalData.encode(personal).finish()),
    },
    commandId,
    // Keyed tokens, not the name: see registerPerson.
    payload: {
      type: "ChangePersonalData",
      personId,
      tokens: nameTokens(deps.blindIndexKey, person.schoolId, name).map((t) =>
        t.toString("base64"),
      ),
    },
    result: () => ({}),
    ...ctx,
    alsoWrite: async (client) => {
      // Also wherever the name is indexed as this commits: an enrollment into another school
      // committed after `person` was read indexed them there, and must not lose it.
      const { rows } = await client.query<{ school_id: string }>(
        "DELETE FROM person_name_index WHERE person_id = $1 RETURNING school_id",
        [personId],
      );
      for (const r of rows) schools.add(r.school_id);
      for (const schoolId of schools) {
        for (const token of nameTokens(deps.blindIndexKey, schoolId, name)) {
          await client.query(
            "INSERT INTO person_name_index (school_id, token, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [schoolId, token, personId],
          );
        }
      }
    },
  });
}
