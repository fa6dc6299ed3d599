/**
 * Presence publishing of one session, as a pure step: when to write to the presence
 * channel and what (this session's first entry, a refresh of the entries it looks after,
 * removals of those that said goodbye, signaling and call slots), and what the outcome of
 * a read or a write changes (the request budget, a rate-limit notice, a permanent refusal,
 * a damaged document to repair). The interpreter (`src/app/presence-loop.ts`) looks at the
 * mesh when asked (`Look`, `Scope`), writes (`Publish`) and reads; time is a parameter.
 */
import { nextWriteAt, record, type BudgetState } from "./budget.js"
import type { PeerId } from "./identity.js"
import type { PresenceCallSlot, PresenceEntry, PresenceSignal } from "./presence-doc.js"

/** A notice the UI shows: GitHub slowed us down, until when, and why. */
export interface RateNotice {
  readonly limit: "primary" | "secondary"
  readonly until: number
  readonly detail: string
}

/** How long a peer stops writing to presence after a permanent refusal: one attempt per period, not one per tick. */
export const PRESENCE_REFUSED_RETRY_MS = 10 * 60_000

/** What the session knows of its use of the presence channel. */
export interface Publisher {
  readonly budget: BudgetState
  readonly rateNotice: RateNotice | undefined
  /** What the UI says is wrong with the channel, if anything. */
  readonly problem: string | undefined
  /** A permanent refusal of writes (no push access in the file form): no write before `until`. */
  readonly blocked: { readonly detail: string; readonly until: number } | undefined
  /** The document was unreadable at the last read: the refresher rewrites it at once. */
  readonly repairDue: boolean
  /** When this session's own entry, and a refresh of the entries it looks after, were last written (0: never). */
  readonly lastOwnEntryAt: number
  readonly lastRefreshAt: number
  /** A write is in flight. */
  readonly publishing: boolean
}

/** A failure of the presence channel, as the port reports it (the port's errors have this shape). */
export type ChannelError =
  | { readonly _tag: "RateLimited"; readonly limit: "primary" | "secondary"; readonly retryAfterMs: number }
  | { readonly _tag: "PresenceMalformed"; readonly detail: string }
  | { readonly _tag: "PresenceUnavailable"; readonly detail: string; readonly permanent?: boolean | undefined }
  | { readonly _tag: "PresenceConflict"; readonly detail: string }

/** What one write carries (the interpreter builds the entries and slots; they come back with its outcome). */
export interface Write {
  readonly upsert: ReadonlyArray<PresenceEntry>
  readonly remove: ReadonlyArray<PeerId>
  readonly signals: ReadonlyArray<PresenceSignal>
  readonly calls: ReadonlyArray<PresenceCallSlot>
  /** Whether it refreshes the entries this session looks after (not only its own). */
  readonly refresh: boolean
}

/** What the mesh shows when a write may go out (after stale signaling was dropped). */
export interface Look {
  /** Someone refreshed an entry well before this session started: it joins an existing mesh and need not spread its first write. */
  readonly established: boolean
  /** This session's delay before its first write (sessions starting together spread out), and how long it has been up. */
  readonly spreadMs: number
  readonly upForMs: number
  /** An offer or answer through presence is being made (its description is not ready yet). */
  readonly offerBeingMade: boolean
  /** Signaling and call slots waiting to be written. */
  readonly signals: number
  readonly calls: number
}

/** The entries this session looks after, when it is the refresher (empty otherwise). */
export interface Scope {
  readonly peers: ReadonlyArray<PeerId>
  /** Each one's `lastSeen` in the channel (0 when it has no entry), in the order of `peers`. */
  readonly lastSeen: ReadonlyArray<number>
  /** Entries to take out: peers that said goodbye a while ago (only a refresher that writes for others has any). */
  readonly departed: ReadonlyArray<PeerId>
  /** How often entries are refreshed. */
  readonly refreshMs: number
  /**
   * When this peer last lost an open link to a session it did not see leave, if ever. Each side
   * of a cut stops counting the other's entries until they are refreshed after it, so the
   * refresher refreshes soon after one (a quarter period after its last write at the earliest):
   * when the network heals, both sides already count each other, and rejoin within minutes.
   */
  readonly cutAt?: number | undefined
}

/** What can happen to publishing. */
export type PublishEvent =
  /**
   * The clock, or a change that may make a write due; `waiting`: offers, answers, call slots and
   * goodbyes waiting to be written or taken out; `refresher`: this session refreshes entries (its
   * first entry is out and its refresh scope is not empty); `refreshMs`: the presence refresh period.
   */
  | { readonly _tag: "Due"; readonly closing: boolean; readonly waiting: number; readonly refresher: boolean; readonly refreshMs: number }
  | ({ readonly _tag: "Looked" } & Look)
  | ({ readonly _tag: "Scoped"; readonly firstEntry: boolean; readonly waiting: boolean } & Scope)
  /** The write went out: its outcome. */
  | { readonly _tag: "Written"; readonly write: Write; readonly error: ChannelError | undefined }
  /** A read of the channel: `changed` false for a 304; `skipped` items it could not read. */
  | { readonly _tag: "Read"; readonly changed: boolean; readonly skipped: ReadonlyArray<string> }
  | { readonly _tag: "ReadFailed"; readonly error: ChannelError }

/** What the interpreter must do. */
export type PublishCommand =
  /** Drop stale signaling, then answer with `Looked`. */
  | { readonly _tag: "Look" }
  /** Answer with `Scoped`: the entries this session refreshes and removes (with `firstEntry` and `waiting` passed back). */
  | { readonly _tag: "Scope"; readonly firstEntry: boolean; readonly waiting: boolean }
  /**
   * Write `upsert` (the entries of these peers, or of this session alone, as of now), `remove`,
   * and every waiting signal and call slot, in one request; answer with `Written`.
   */
  | { readonly _tag: "Publish"; readonly upsert: ReadonlyArray<PeerId> | "self"; readonly remove: ReadonlyArray<PeerId>; readonly refresh: boolean }
  /** The write landed: forget what it carried (sent slots, removed entries) and know its entries. */
  | { readonly _tag: "Landed"; readonly write: Write }
  /** The channel refused the call slots as malformed: they would be refused again. */
  | { readonly _tag: "DropCalls"; readonly calls: ReadonlyArray<PresenceCallSlot> }
  /** Record a refused item for the UI (counted under `kind`). */
  | { readonly _tag: "Report"; readonly detail: string; readonly kind: string | undefined }
  /** Act on the change now rather than at the next tick (a damaged document to repair). */
  | { readonly _tag: "Nudge" }

/** The result of one step. */
export interface PublishStep {
  readonly state: Publisher
  readonly commands: ReadonlyArray<PublishCommand>
}

/** A session that has written nothing. */
export const initialPublisher = (budget: BudgetState): Publisher => ({
  budget,
  rateNotice: undefined,
  problem: undefined,
  blocked: undefined,
  repairDue: false,
  lastOwnEntryAt: 0,
  lastRefreshAt: 0,
  publishing: false
})

const done = (state: Publisher, ...commands: ReadonlyArray<PublishCommand>): PublishStep => ({ state, commands })

/** Whether a rate limit still holds at `at`. */
export const rateLimited = (s: Publisher, at: number): boolean => s.rateNotice !== undefined && at < s.rateNotice.until

/** A short sentence about skipped presence items: how many, of which kinds (details go to the refused items). */
export const skippedSentence = (skipped: ReadonlyArray<string>): string => {
  const kinds = new Set(skipped.map((k) => /^([a-z ]+?) \d+:/.exec(k)?.[1] ?? "item"))
  return `${skipped.length} unreadable presence item(s) skipped (${[...kinds].join(", ")}).`
}

/** What a failed read or write changes; the refusal of a damaged document is reported, and acted on at once. */
const failed = (s: Publisher, e: ChannelError, at: number): PublishStep => {
  switch (e._tag) {
    case "RateLimited":
      return done({
        ...s,
        rateNotice: {
          limit: e.limit,
          until: at + e.retryAfterMs,
          detail:
            e.limit === "primary"
              ? "GitHub's hourly request budget is spent: presence updates are paused until it refills."
              : "GitHub is slowing SkyGit down (a secondary rate limit): presence updates are delayed for a while."
        }
      })
    case "PresenceMalformed":
      // A short sentence for people; the details go to the refused items.
      return done(
        { ...s, problem: "The presence file is damaged; SkyGit is repairing it.", repairDue: true },
        { _tag: "Report", detail: `presence-unreadable: ${e.detail}`, kind: "presence-unreadable" },
        { _tag: "Nudge" }
      )
    case "PresenceUnavailable":
      // A permanent refusal is said once, then no write until the period is over: retrying at once cannot help.
      return e.permanent === true
        ? done({ ...s, blocked: { detail: e.detail, until: at + PRESENCE_REFUSED_RETRY_MS }, problem: e.detail })
        : done({ ...s, problem: `Presence channel: ${e.detail}` })
    case "PresenceConflict":
      return done({ ...s, problem: `Presence channel: ${e.detail}` })
  }
}

/** One step of publishing: the next state and what to do, in order. */
export const stepPublish = (s: Publisher, e: PublishEvent, at: number): PublishStep => {
  switch (e._tag) {
    case "Due":
      if (s.publishing || e.closing || rateLimited(s, at)) return done(s)
      if (s.blocked !== undefined && at < s.blocked.until) return done(s)
      if (at < nextWriteAt(s.budget, at)) return done(s)
      // Once its first entry is out, nothing is due unless something waits to be written, or this
      // session refreshes entries and a quarter refresh period passed since its last write: no need
      // to look at the mesh then (every tick of every peer did).
      if (quiet(s, e, at)) return done(s)
      return done(s, { _tag: "Look" })
    case "Looked": {
      // Peers that start together would all write their first entry at once and lose
      // compare-and-swap races: they spread over a moment, deterministically per session. Until
      // then only an offer or an answer is worth a write (and it carries the entry). A peer
      // joining a mesh that was already there is racing nobody and writes at once.
      const first = s.lastOwnEntryAt === 0
      const firstEntry = first && (e.established || e.upForMs >= e.spreadMs)
      if (first && !firstEntry && e.signals === 0 && e.calls === 0) return done(s)
      // A first entry waits the moment an offer or answer through presence takes to be made, so both go in one write.
      if (first && e.offerBeingMade) return done(s)
      return done(s, { _tag: "Scope", firstEntry, waiting: e.signals > 0 || e.calls > 0 })
    }
    case "Scoped":
      return scoped(s, e, at)
    case "Written": {
      const state = { ...s, publishing: false, budget: record(s.budget, "write", at) }
      if (e.error !== undefined) {
        const f = failed(state, e.error, at)
        return done(
          f.state,
          // A refused change (a call slot out of bounds) would be refused again: its call slots go.
          ...(e.error._tag === "PresenceMalformed" ? [{ _tag: "DropCalls", calls: e.write.calls } as const] : []),
          ...f.commands,
          { _tag: "Report", detail: `presence write failed: ${e.error._tag}`, kind: undefined }
        )
      }
      // Writing works again (access granted, repository unarchived).
      const unblocked = s.blocked === undefined ? state : { ...state, blocked: undefined, problem: undefined }
      const wrote = e.write.upsert.length > 0
      return done(
        {
          ...unblocked,
          lastOwnEntryAt: wrote ? at : s.lastOwnEntryAt,
          lastRefreshAt: wrote && e.write.refresh ? at : s.lastRefreshAt,
          repairDue: e.write.refresh ? false : s.repairDue
        },
        { _tag: "Landed", write: e.write }
      )
    }
    case "Read": {
      const rateNotice = s.rateNotice !== undefined && at >= s.rateNotice.until ? undefined : s.rateNotice
      // A permanent refusal stays said while it holds; reads succeeding do not make it go.
      const problem = s.blocked !== undefined ? s.blocked.detail : e.skipped.length > 0 ? skippedSentence(e.skipped) : undefined
      return done(
        { ...s, budget: record(s.budget, e.changed ? "read" : "notModified", at), rateNotice, repairDue: false, problem },
        ...(e.changed ? e.skipped.slice(0, 5).map((k) => ({ _tag: "Report", detail: `presence-item: ${k}`, kind: "presence-item" }) as const) : [])
      )
    }
    case "ReadFailed":
      return failed(s, e.error, at)
  }
}

/** Whether a `Due` can lead to no write whatever the look and the scope show (see `scoped`). */
const quiet = (s: Publisher, e: Extract<PublishEvent, { _tag: "Due" }>, at: number): boolean =>
  s.lastOwnEntryAt !== 0 && !s.repairDue && e.waiting === 0 && (!e.refresher || at - Math.max(s.lastRefreshAt, s.lastOwnEntryAt) < e.refreshMs / 4)

const scoped = (s: Publisher, e: Extract<PublishEvent, { _tag: "Scoped" }>, at: number): PublishStep => {
  const refresher = e.peers.length > 0
  // Due when some entry in scope is older than the refresh period (or missing), judged from the
  // document itself: a new refresher (after a leader change) does not rewrite fresh entries.
  // An unreadable document is rewritten at once by the refresher (the one that watches for newcomers).
  const lastWrite = Math.max(s.lastRefreshAt, s.lastOwnEntryAt)
  const cutSince = e.cutAt !== undefined && e.cutAt > lastWrite
  const refresh =
    refresher && (s.repairDue || (at - lastWrite >= e.refreshMs / 4 && (cutSince || e.lastSeen.some((seen) => seen <= at - e.refreshMs))))
  if (!refresh && !e.firstEntry && !e.waiting && e.departed.length === 0) return done(s)
  // A write that goes out anyway carries this session's first entry too (one write, not two).
  const upsert = refresh ? e.peers : s.lastOwnEntryAt === 0 ? "self" : []
  return done({ ...s, publishing: true }, { _tag: "Publish", upsert, remove: e.departed, refresh })
}
