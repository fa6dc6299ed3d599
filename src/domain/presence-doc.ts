/**
 * The presence channel's document: heartbeat entries and signaling slots.
 * File form: one `.messages/presence.json` shared by everyone. Discussion form:
 * one such document per user, in that user's comment. Malformed entries are
 * skipped with a reason; only an unreadable document as a whole is an error.
 */
import { Array as Arr, Data, Either, ParseResult, Schema } from "effect"
import { PeerId, peerKey, samePeer, sameUser } from "./identity.js"
import { Description } from "./envelope.js"
import { MAX_CLOCK_SKEW_MS } from "./heartbeat.js"

/** Most entries a document keeps; the stalest go first. */
export const MAX_PRESENCE_ENTRIES = 500
/** Most signaling slots a document keeps; the oldest go first. */
export const MAX_PRESENCE_SIGNALS = 1_000
/** Largest presence document accepted, in characters. */
export const MAX_PRESENCE_DOCUMENT = 1024 * 1024
/** Entries not refreshed for this long are dropped from the document on the next write. */
export const ENTRY_RETENTION_MS = 60 * 60_000
/**
 * Signaling slots older than this are dropped on the next write: peers answer only
 * offers younger than their signal timeout plus one slow read (well under two
 * minutes), and every reader decodes every slot.
 */
export const SIGNAL_RETENTION_MS = 2 * 60_000

const IsoTime = Schema.DateFromString.pipe(
  Schema.filter((d) => !Number.isNaN(d.getTime()), { message: () => "not a valid time" })
)
const EpochFromIso = Schema.transform(IsoTime, Schema.Number, {
  strict: true,
  decode: (d) => d.getTime(),
  encode: (n) => new Date(n)
})
const WirePeer = Schema.Struct({
  username: PeerId.fields.username,
  sessionId: Schema.propertySignature(PeerId.fields.sessionId).pipe(Schema.fromKey("session_id"))
})

/** One peer's heartbeat as the presence channel holds it (seed §1 field names on the wire). */
export const PresenceEntry = Schema.Struct({
  username: PeerId.fields.username,
  sessionId: Schema.propertySignature(PeerId.fields.sessionId).pipe(Schema.fromKey("session_id")),
  lastSeen: Schema.propertySignature(EpochFromIso).pipe(Schema.fromKey("last_seen")),
  /** DTLS certificate fingerprint of the session, so relayed SDP can be verified. */
  fingerprint: Schema.optional(Schema.String.pipe(Schema.maxLength(256)))
})
/** One peer's heartbeat. */
export type PresenceEntry = typeof PresenceEntry.Type

/** A signaling slot addressed to exactly one peer; one slot per (from, to) pair. */
export const PresenceSignal = Schema.Struct({
  from: WirePeer,
  to: WirePeer,
  attempt: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/)),
  description: Description,
  at: EpochFromIso
})
/** A signaling slot. */
export type PresenceSignal = typeof PresenceSignal.Type

/** A decoded presence document. */
export interface PresenceDocument {
  readonly entries: ReadonlyArray<PresenceEntry>
  readonly signals: ReadonlyArray<PresenceSignal>
}

/** The empty document. */
export const emptyDocument: PresenceDocument = { entries: [], signals: [] }

/** What one writer changes: entries to upsert or remove, slots to (re)place. */
export interface PresenceChange {
  readonly upsert: ReadonlyArray<PresenceEntry>
  readonly remove: ReadonlyArray<PeerId>
  readonly signals: ReadonlyArray<PresenceSignal>
}

/** An empty change. */
export const noChange: PresenceChange = { upsert: [], remove: [], signals: [] }

/** The presence document could not be read at all. */
export class PresenceDocumentMalformed extends Data.TaggedError("PresenceDocumentMalformed")<{
  readonly detail: string
}> {}

/** One part of a document that was skipped, and why. */
export interface Skipped {
  readonly detail: string
}

const Outer = Schema.Struct({
  version: Schema.Literal(1),
  entries: Schema.Array(Schema.Unknown),
  signals: Schema.Array(Schema.Unknown)
})
const decodeOuter = Schema.decodeUnknownEither(Schema.parseJson(Outer))
const decodeEntry = Schema.decodeUnknownEither(PresenceEntry)
const decodeSignal = Schema.decodeUnknownEither(PresenceSignal)
const encodeEntry = Schema.encodeSync(PresenceEntry)
const encodeSignal = Schema.encodeSync(PresenceSignal)

const reason = (e: ParseResult.ParseError): string => ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)

/** Decodes a document's text; bad entries and slots are skipped and listed. */
export const decodeDocument = (
  text: string
): Either.Either<{ readonly document: PresenceDocument; readonly skipped: ReadonlyArray<Skipped> }, PresenceDocumentMalformed> => {
  if (text.length > MAX_PRESENCE_DOCUMENT) {
    return Either.left(new PresenceDocumentMalformed({ detail: `presence document larger than ${MAX_PRESENCE_DOCUMENT} characters` }))
  }
  return Either.match(decodeOuter(text), {
    onLeft: (e) => Either.left(new PresenceDocumentMalformed({ detail: reason(e) })),
    onRight: (outer) => {
      const skipped: Array<Skipped> = []
      const entries: Array<PresenceEntry> = []
      const signals: Array<PresenceSignal> = []
      if (outer.entries.length > MAX_PRESENCE_ENTRIES) {
        skipped.push({ detail: `${outer.entries.length - MAX_PRESENCE_ENTRIES} entries past the first ${MAX_PRESENCE_ENTRIES} ignored` })
      }
      if (outer.signals.length > MAX_PRESENCE_SIGNALS) {
        skipped.push({ detail: `${outer.signals.length - MAX_PRESENCE_SIGNALS} signaling slots past the first ${MAX_PRESENCE_SIGNALS} ignored` })
      }
      outer.entries.slice(0, MAX_PRESENCE_ENTRIES).forEach((raw, i) =>
        Either.match(decodeEntry(raw), {
          onLeft: (e) => skipped.push({ detail: `entry ${i}: ${reason(e)}` }),
          onRight: (entry) => entries.push(entry)
        })
      )
      outer.signals.slice(0, MAX_PRESENCE_SIGNALS).forEach((raw, i) =>
        Either.match(decodeSignal(raw), {
          onLeft: (e) => skipped.push({ detail: `signal ${i}: ${reason(e)}` }),
          onRight: (signal) => signals.push(signal)
        })
      )
      return Either.right({ document: { entries, signals }, skipped })
    }
  })
}

/** The document's text (stable key order, so equal documents encode equally). */
export const encodeDocument = (doc: PresenceDocument): string =>
  JSON.stringify(
    { version: 1, entries: doc.entries.map((e) => encodeEntry(e)), signals: doc.signals.map((s) => encodeSignal(s)) },
    null,
    1
  )

const entryPeer = (e: PresenceEntry): PeerId => ({ username: e.username, sessionId: e.sessionId })
const slotKey = (s: PresenceSignal): string => `${peerKey(s.from)}>${peerKey(s.to)}`

/**
 * Applies one writer's change to the latest document: upserts keep the newest
 * `lastSeen`, a slot replaces the slot of the same (from, to) pair, and entries
 * and slots past their retention are dropped. Used by every writer after a
 * compare-and-swap loss, so no one's write is lost.
 */
export const applyChange = (doc: PresenceDocument, change: PresenceChange, now: number): PresenceDocument => {
  // A clock far ahead must not keep an entry alive forever: no one is seen later than now + skew.
  const latest = now + MAX_CLOCK_SKEW_MS
  const clamp = (e: PresenceEntry): PresenceEntry => (e.lastSeen > latest ? { ...e, lastSeen: latest } : e)
  const entries = new Map<string, PresenceEntry>()
  const upsert = (e: PresenceEntry) => {
    const key = peerKey(entryPeer(e))
    const old = entries.get(key)
    entries.set(key, old !== undefined && old.lastSeen > e.lastSeen ? { ...clamp(e), lastSeen: old.lastSeen } : clamp(e))
  }
  // The document may already hold one peer twice (logins differ in case): the newest wins.
  for (const e of doc.entries) upsert(e)
  for (const peer of change.remove) entries.delete(peerKey(peer))
  for (const e of change.upsert) upsert(e)
  const slots = new Map(doc.signals.map((s) => [slotKey(s), s] as const))
  for (const s of change.signals) slots.set(slotKey(s), s)
  const removed = (p: PeerId) => change.remove.some((r) => samePeer(r, p))
  return {
    entries: Arr.fromIterable(entries.values())
      .filter((e) => now - e.lastSeen < ENTRY_RETENTION_MS)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, MAX_PRESENCE_ENTRIES),
    signals: Arr.fromIterable(slots.values())
      .filter((s) => now - s.at < SIGNAL_RETENTION_MS && !removed(s.from) && !removed(s.to))
      .sort((a, b) => b.at - a.at)
      .slice(0, MAX_PRESENCE_SIGNALS)
  }
}

/**
 * Whether `doc` already holds everything `change` would write: each slot as it is (same
 * attempt and description), no entry to remove, and each upserted entry at least as fresh
 * (same fingerprint). A writer whose fresh read shows this has nothing to write.
 */
export const holds = (doc: PresenceDocument, change: PresenceChange): boolean => {
  const entries = new Map(doc.entries.map((e) => [peerKey(entryPeer(e)), e] as const))
  const slots = new Map(doc.signals.map((s) => [slotKey(s), s] as const))
  return (
    change.remove.every((p) => !entries.has(peerKey(p))) &&
    change.upsert.every((e) => {
      const old = entries.get(peerKey(entryPeer(e)))
      return old !== undefined && old.lastSeen >= e.lastSeen && old.fingerprint === e.fingerprint
    }) &&
    change.signals.every((s) => {
      const old = slots.get(slotKey(s))
      return old !== undefined && old.attempt === s.attempt && old.description.type === s.description.type && old.description.sdp === s.description.sdp
    })
  )
}

/**
 * Merges per-user documents (Discussion form). A comment's author is its identity:
 * entries and slots that claim another user are skipped.
 */
export const mergeAuthored = (
  docs: ReadonlyArray<{ readonly author: string; readonly document: PresenceDocument }>
): { readonly document: PresenceDocument; readonly skipped: ReadonlyArray<Skipped> } => {
  const skipped: Array<Skipped> = []
  const entries: Array<PresenceEntry> = []
  const signals: Array<PresenceSignal> = []
  for (const { author, document } of docs) {
    for (const e of document.entries) {
      if (sameUser(e.username, author)) entries.push(e)
      else skipped.push({ detail: `comment by ${author} claims the entry of ${e.username}` })
    }
    for (const s of document.signals) {
      if (sameUser(s.from.username, author)) signals.push(s)
      else skipped.push({ detail: `comment by ${author} claims a signal from ${s.from.username}` })
    }
  }
  return { document: { entries, signals }, skipped }
}
