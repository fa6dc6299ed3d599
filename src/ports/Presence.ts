/**
 * Presence port: the presence channel (GitHub file or Discussion) used for
 * discovery and for signaling until a data channel exists.
 */
import { Context, Data, type Effect } from "effect"
import type { PresenceChange, PresenceDocument, Skipped } from "../domain/presence-doc.js"

/** Another writer changed the document first and retries did not win the race. */
export class PresenceConflict extends Data.TaggedError("PresenceConflict")<{ readonly detail: string }> {}
/** GitHub refused for budget: `limit` tells which, `retryAfterMs` when to try again. */
export class PresenceRateLimited extends Data.TaggedError("PresenceRateLimited")<{
  readonly limit: "primary" | "secondary"
  readonly retryAfterMs: number
}> {}
/**
 * The channel could not be reached or refused for another reason (network, 5xx, permissions,
 * not set up). `permanent`: writing again cannot help until someone changes the repository or
 * this user's access (no push access, archived, protected); the caller stops writing for a while.
 */
export class PresenceUnavailable extends Data.TaggedError("PresenceUnavailable")<{ readonly detail: string; readonly permanent?: boolean }> {}
/**
 * The channel holds a document that cannot be read at all, or a change was refused
 * before any request because it would not be readable (a call slot out of bounds).
 */
export class PresenceMalformed extends Data.TaggedError("PresenceMalformed")<{ readonly detail: string }> {}

/** Everything that can go wrong with the presence channel. */
export type PresenceError = PresenceConflict | PresenceRateLimited | PresenceUnavailable | PresenceMalformed

/** What a read of the channel saw. */
export interface PresenceSnapshot {
  readonly document: PresenceDocument
  /** Entries or slots that were skipped, each with a reason. */
  readonly skipped: ReadonlyArray<Skipped>
  /** False when the channel answered "not modified" and `document` is the previous one. */
  readonly changed: boolean
}

/** The presence channel of one repository, as one user sees it. */
export interface PresenceService {
  /** `file`: one shared document; `discussion`: one comment per user. */
  readonly form: "file" | "discussion"
  /**
   * `claimed`: an entry's username is whatever its writer wrote (file form);
   * `verified`: the host sets it from the writer's credentials (Discussion form).
   */
  readonly identities: "claimed" | "verified"
  /**
   * Whether this user may write entries of other users (file form: one peer
   * refreshes the entries of the whole mesh; Discussion form: only one's own).
   */
  readonly writesForOthers: boolean
  /**
   * Writes a change in one request (heartbeat entries, removals, connection and
   * call slots addressed to single peers). Loses no concurrent write: on a
   * compare-and-swap loss it re-reads, merges and retries. A change with a call slot
   * out of bounds (`changeProblem`) is refused with PresenceMalformed, unwritten.
   */
  readonly publish: (change: PresenceChange) => Effect.Effect<void, PresenceError>
  /** Reads the channel, conditionally where the host supports it. */
  readonly read: Effect.Effect<PresenceSnapshot, PresenceError>
}

/** The presence channel service. */
export class Presence extends Context.Tag("skygit/Presence")<Presence, PresenceService>() {}
