/**
 * The presence channel's document: heartbeat entries, connection signaling slots
 * (SDP) and call slots (call control for a peer with no open data channel).
 * File form: one `.messages/presence.json` shared by everyone. Discussion form:
 * one such document per user, in that user's comment. Malformed entries are
 * skipped with a reason; only an unreadable document as a whole is an error.
 */
import { Array as Arr, Data, Either, ParseResult, Schema } from "effect"
import { CallSignal } from "./call-signal.js"
import { PeerId, peerKey, samePeer, sameUser } from "./identity.js"
import { Description } from "./envelope.js"
import { MAX_CLOCK_SKEW_MS } from "./heartbeat.js"
import { EncryptionKey, SealedBox } from "./sealed-signal.js"

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
/** Most call slots a document keeps; the oldest go first. */
export const MAX_PRESENCE_CALL_SLOTS = 200
/** Most call signals one call slot carries (the latest ones sent to that peer). */
export const MAX_CALL_SLOT_SIGNALS = 8
/** Largest call slot accepted, in characters of its JSON: a 16-person invite is about 1.5 KiB. */
export const MAX_CALL_SLOT_CHARS = 8 * 1024
/**
 * Largest sealed call slot, in characters of its JSON: a slot within MAX_CALL_SLOT_CHARS
 * once its signals are encrypted (base64 grows them by a third) and boxed.
 */
export const MAX_SEALED_CALL_SLOT_CHARS = Math.ceil((MAX_CALL_SLOT_CHARS * 4) / 3) + 512
/**
 * Call slots, and the signals in them, older than this are dropped on the next write:
 * a call rings for 45 s, and what is older than that plus a slow read is stale.
 */
export const CALL_SLOT_RETENTION_MS = 2 * 60_000

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
  fingerprint: Schema.optional(Schema.String.pipe(Schema.maxLength(256))),
  /** The session's ECDH P-256 public key: signaling for it is sealed to this key (src/domain/sealed-signal.ts). */
  encryptionKey: Schema.optional(EncryptionKey).pipe(Schema.fromKey("encryption_key"))
})
/** One peer's heartbeat. */
export type PresenceEntry = typeof PresenceEntry.Type

/**
 * A signaling slot addressed to exactly one peer; one slot per (from, to) pair. Sealed
 * (`sealed` present), the description's SDP is empty on the wire and the box holds it,
 * encrypted to the recipient's key; only the recipient's reader puts it back.
 */
export const PresenceSignal = Schema.Struct({
  from: WirePeer,
  to: WirePeer,
  attempt: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/)),
  description: Description,
  at: EpochFromIso,
  sealed: Schema.optional(SealedBox)
})
/** A signaling slot. */
export type PresenceSignal = typeof PresenceSignal.Type

/** One call signal in a call slot: its id (the same id it has on the data channel) and when it was sent. */
export const PresenceCallSignal = Schema.Struct({
  id: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/)),
  at: EpochFromIso,
  signal: CallSignal
})
/** One call signal in a call slot. */
export type PresenceCallSignal = typeof PresenceCallSignal.Type

/**
 * Call control addressed to exactly one peer that has no open data channel with
 * the sender; one slot per (from, to) pair, apart from the connection slot of the
 * same pair. A slot carries the sender's latest signals to that peer, oldest first
 * (not only the newest): a rewrite before the peer read the previous one loses nothing.
 */
export const PresenceCallSlot = Schema.Struct({
  from: WirePeer,
  to: WirePeer,
  at: EpochFromIso,
  signals: Schema.Array(PresenceCallSignal).pipe(Schema.maxItems(MAX_CALL_SLOT_SIGNALS)),
  /** Sealed: `signals` is empty on the wire and the box holds them, encrypted to the recipient. */
  sealed: Schema.optional(SealedBox)
}).pipe(Schema.filter((slot) => slot.signals.length > 0 || slot.sealed !== undefined, { message: () => "a call slot without signals" }))
/** A call slot. */
export type PresenceCallSlot = typeof PresenceCallSlot.Type

/** A decoded presence document. */
export interface PresenceDocument {
  readonly entries: ReadonlyArray<PresenceEntry>
  readonly signals: ReadonlyArray<PresenceSignal>
  /** Call slots; absent in documents written before they existed (read as none). */
  readonly calls?: ReadonlyArray<PresenceCallSlot>
}

/** The empty document. */
export const emptyDocument: PresenceDocument = { entries: [], signals: [], calls: [] }

/** What one writer changes: entries to upsert or remove, slots to (re)place. */
export interface PresenceChange {
  readonly upsert: ReadonlyArray<PresenceEntry>
  readonly remove: ReadonlyArray<PeerId>
  readonly signals: ReadonlyArray<PresenceSignal>
  /** Call slots to (re)place, one per (from, to) pair. */
  readonly calls?: ReadonlyArray<PresenceCallSlot>
}

/** An empty change. */
export const noChange: PresenceChange = { upsert: [], remove: [], signals: [], calls: [] }

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
  signals: Schema.Array(Schema.Unknown),
  // Optional: documents of versions without calls stay valid, and readers that predate
  // calls ignore the field (a file-form write by such a reader drops the call slots).
  calls: Schema.optional(Schema.Array(Schema.Unknown))
})
const decodeOuter = Schema.decodeUnknownEither(Schema.parseJson(Outer))
const decodeEntry = Schema.decodeUnknownEither(PresenceEntry)
const decodeSignal = Schema.decodeUnknownEither(PresenceSignal)
const encodeEntry = Schema.encodeSync(PresenceEntry)
const encodeSignal = Schema.encodeSync(PresenceSignal)
const decodeCallSlot = Schema.decodeUnknownEither(PresenceCallSlot)
const encodeCallSlot = Schema.encodeSync(PresenceCallSlot)

/** Why a call slot cannot go into a document (too large or too many signals), or undefined when it can. */
export const callSlotProblem = (slot: PresenceCallSlot): string | undefined => {
  const sealed = slot.sealed !== undefined
  if ((!sealed && slot.signals.length === 0) || slot.signals.length > MAX_CALL_SLOT_SIGNALS) {
    return `call slot to ${slot.to.username} carries ${slot.signals.length} signals, not 1 to ${MAX_CALL_SLOT_SIGNALS}`
  }
  const size = JSON.stringify(encodeCallSlot(slot)).length
  const limit = sealed ? MAX_SEALED_CALL_SLOT_CHARS : MAX_CALL_SLOT_CHARS
  return size > limit ? `call slot to ${slot.to.username} is ${size} characters, over ${limit}` : undefined
}

/** Why a change cannot be written (a call slot out of bounds), or undefined when it can. */
export const changeProblem = (change: PresenceChange): string | undefined => {
  for (const slot of change.calls ?? []) {
    const problem = callSlotProblem(slot)
    if (problem !== undefined) return problem
  }
  return undefined
}

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
      const calls: Array<PresenceCallSlot> = []
      const rawCalls = outer.calls ?? []
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
      if (rawCalls.length > MAX_PRESENCE_CALL_SLOTS) {
        skipped.push({ detail: `${rawCalls.length - MAX_PRESENCE_CALL_SLOTS} call slots past the first ${MAX_PRESENCE_CALL_SLOTS} ignored` })
      }
      rawCalls.slice(0, MAX_PRESENCE_CALL_SLOTS).forEach((raw, i) => {
        // Size first: a hostile slot is not worth decoding.
        const size = JSON.stringify(raw)?.length ?? 0
        // A sealed slot's box is larger than the signals in it (base64): it has its own bound.
        const limit = typeof raw === "object" && raw !== null && "sealed" in raw ? MAX_SEALED_CALL_SLOT_CHARS : MAX_CALL_SLOT_CHARS
        if (size > limit) return skipped.push({ detail: `call slot ${i}: ${size} characters, over ${limit}` })
        Either.match(decodeCallSlot(raw), {
          onLeft: (e) => skipped.push({ detail: `call slot ${i}: ${reason(e)}` }),
          onRight: (slot) => calls.push(slot)
        })
      })
      return Either.right({ document: { entries, signals, calls }, skipped })
    }
  })
}

/** The document's text (stable key order, so equal documents encode equally). */
export const encodeDocument = (doc: PresenceDocument): string =>
  JSON.stringify(
    {
      version: 1,
      entries: doc.entries.map((e) => encodeEntry(e)),
      signals: doc.signals.map((s) => encodeSignal(s)),
      // Only when there are any: a channel without calls keeps its documents as they were.
      ...((doc.calls ?? []).length > 0 ? { calls: (doc.calls ?? []).map((c) => encodeCallSlot(c)) } : {})
    },
    null,
    1
  )

const entryPeer = (e: PresenceEntry): PeerId => ({ username: e.username, sessionId: e.sessionId })
const slotKey = (s: { readonly from: PeerId; readonly to: PeerId }): string => `${peerKey(s.from)}>${peerKey(s.to)}`

/** A call slot without its signals past retention at `now`, or undefined when none is left. */
const retainCallSlot = (slot: PresenceCallSlot, now: number): PresenceCallSlot | undefined => {
  // A time further ahead than clocks drift apart would never expire: not kept.
  const kept = (at: number) => now - at < CALL_SLOT_RETENTION_MS && at - now <= MAX_CLOCK_SKEW_MS
  if (!kept(slot.at)) return undefined
  // A sealed slot's signals are inside its box: it lives by its own time.
  if (slot.sealed !== undefined) return slot
  const signals = slot.signals.filter((x) => kept(x.at))
  if (signals.length === 0) return undefined
  return signals.length === slot.signals.length ? slot : { ...slot, signals }
}

/**
 * Applies one writer's change to the latest document: upserts keep the newest
 * `lastSeen`, a slot replaces the slot of the same kind and (from, to) pair (a
 * call slot never displaces a connection slot), and entries and slots past their
 * retention are dropped. Used by every writer after a
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
    // A rewrite never drops another session's fingerprint or key (a writer that did not know them).
    const withPrint = e.fingerprint === undefined && old?.fingerprint !== undefined ? { ...e, fingerprint: old.fingerprint } : e
    const next = old?.encryptionKey !== undefined && withPrint.encryptionKey === undefined ? { ...withPrint, encryptionKey: old.encryptionKey } : withPrint
    entries.set(key, old !== undefined && old.lastSeen > next.lastSeen ? { ...clamp(next), lastSeen: old.lastSeen } : clamp(next))
  }
  // The document may already hold one peer twice (logins differ in case): the newest wins.
  for (const e of doc.entries) upsert(e)
  for (const peer of change.remove) entries.delete(peerKey(peer))
  for (const e of change.upsert) upsert(e)
  const slots = new Map(doc.signals.map((s) => [slotKey(s), s] as const))
  for (const s of change.signals) slots.set(slotKey(s), s)
  const removed = (p: PeerId) => change.remove.some((r) => samePeer(r, p))
  const callSlots = new Map((doc.calls ?? []).map((c) => [slotKey(c), c] as const))
  for (const c of change.calls ?? []) callSlots.set(slotKey(c), c)
  return {
    entries: Arr.fromIterable(entries.values())
      .filter((e) => now - e.lastSeen < ENTRY_RETENTION_MS)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, MAX_PRESENCE_ENTRIES),
    signals: Arr.fromIterable(slots.values())
      .filter((s) => now - s.at < SIGNAL_RETENTION_MS && !removed(s.from) && !removed(s.to))
      .sort((a, b) => b.at - a.at)
      .slice(0, MAX_PRESENCE_SIGNALS),
    calls: Arr.fromIterable(callSlots.values())
      .flatMap((c) => {
        const kept = removed(c.from) || removed(c.to) ? undefined : retainCallSlot(c, now)
        return kept === undefined ? [] : [kept]
      })
      .sort((a, b) => b.at - a.at)
      .slice(0, MAX_PRESENCE_CALL_SLOTS)
  }
}

/**
 * Whether `doc` already holds everything `change` would write: each slot as it is (same
 * attempt and description; a call slot with the same signals), no entry to remove, and each
 * upserted entry at least as fresh (same fingerprint). A writer whose fresh read shows this has nothing to write.
 */
export const holds = (doc: PresenceDocument, change: PresenceChange): boolean => {
  const entries = new Map(doc.entries.map((e) => [peerKey(entryPeer(e)), e] as const))
  const slots = new Map(doc.signals.map((s) => [slotKey(s), s] as const))
  const callSlots = new Map((doc.calls ?? []).map((c) => [slotKey(c), c] as const))
  return (
    change.remove.every((p) => !entries.has(peerKey(p))) &&
    change.upsert.every((e) => {
      const old = entries.get(peerKey(entryPeer(e)))
      return old !== undefined && old.lastSeen >= e.lastSeen && old.fingerprint === e.fingerprint
    }) &&
    change.signals.every((s) => {
      const old = slots.get(slotKey(s))
      return old !== undefined && old.attempt === s.attempt && old.description.type === s.description.type && old.description.sdp === s.description.sdp
    }) &&
    (change.calls ?? []).every((c) => {
      const old = callSlots.get(slotKey(c))
      return old !== undefined && old.signals.length === c.signals.length && old.signals.every((o, i) => o.id === c.signals[i]!.id)
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
  const calls: Array<PresenceCallSlot> = []
  for (const { author, document } of docs) {
    for (const e of document.entries) {
      if (sameUser(e.username, author)) entries.push(e)
      else skipped.push({ detail: `comment by ${author} claims the entry of ${e.username}` })
    }
    for (const s of document.signals) {
      if (sameUser(s.from.username, author)) signals.push(s)
      else skipped.push({ detail: `comment by ${author} claims a signal from ${s.from.username}` })
    }
    for (const c of document.calls ?? []) {
      if (sameUser(c.from.username, author)) calls.push(c)
      else skipped.push({ detail: `comment by ${author} claims a call slot from ${c.from.username}` })
    }
  }
  return { document: { entries, signals, calls }, skipped }
}
