/**
 * The presence channel with sealed signaling: every offer, answer and call slot this
 * session writes is encrypted to the session it is for, and only slots sealed to this
 * session by the sender's published key are read. The rest of the peer sees plain
 * descriptions and call signals, as before; the channel (and its history) sees none.
 *
 * Keys are pinned on first sight per session: a later entry claiming another key for the
 * same session is ignored, so a writer of the repository cannot swap a peer's key after
 * the fact (as with fingerprints, an entry seen first is trusted; in Discussion form
 * GitHub vouches for its author).
 */
import { Effect, Either, Schema } from "effect"
import { Description } from "../domain/envelope.js"
import { peerKey, samePeer, type PeerId } from "../domain/identity.js"
import {
  callSlotProblem,
  changeProblem,
  PresenceCallSignal,
  type PresenceCallSlot,
  type PresenceChange,
  type PresenceEntry,
  type PresenceSignal,
  type Skipped
} from "../domain/presence-doc.js"
import { sealContext } from "../domain/sealed-signal.js"
import { PresenceMalformed, type PresenceService, type PresenceSnapshot } from "../ports/Presence.js"
import type { SignalSealerService } from "../ports/SignalSealer.js"

/** Sessions whose key is pinned; past it the oldest pins go (a session lives hours, not forever). */
export const MAX_PINNED_KEYS = 2_000

const decodeDescription = Schema.decodeUnknownEither(Schema.parseJson(Description))
const CallSignals = Schema.parseJson(Schema.Array(PresenceCallSignal))
const decodeCallSignals = Schema.decodeUnknownEither(CallSignals)
const encodeCallSignals = Schema.encodeSync(CallSignals)

const signalContext = (s: PresenceSignal): string => sealContext("signal", s.from, s.to, [s.attempt, s.description.type, String(s.at)])
const callContext = (s: PresenceCallSlot): string => sealContext("call", s.from, s.to, [String(s.at)])

/** Wraps `inner` so that signaling is sealed on the way out and opened on the way in. */
export const sealPresence = (inner: PresenceService, sealer: SignalSealerService, self: PeerId): PresenceService => {
  const pinned = new Map<string, string>()

  const pin = (entry: PresenceEntry): Skipped | undefined => {
    if (entry.encryptionKey === undefined) return undefined
    const key = peerKey({ username: entry.username, sessionId: entry.sessionId })
    const known = pinned.get(key)
    if (known === undefined) {
      if (pinned.size >= MAX_PINNED_KEYS) pinned.delete(pinned.keys().next().value!)
      pinned.set(key, entry.encryptionKey)
      return undefined
    }
    return known === entry.encryptionKey ? undefined : { detail: `entry of ${entry.username}: encryption key changed within a session, ignored` }
  }

  const keyOf = (peer: PeerId): string | undefined => (samePeer(peer, self) ? sealer.publicKey : pinned.get(peerKey(peer)))

  /** Entries as written: one's own carries the key, others' keep the pinned one. */
  const withKey = (entry: PresenceEntry): PresenceEntry => {
    const key = keyOf({ username: entry.username, sessionId: entry.sessionId })
    return key === undefined ? entry : { ...entry, encryptionKey: key }
  }

  const sealSignal = (s: PresenceSignal): Effect.Effect<PresenceSignal | undefined> => {
    const to = keyOf(s.to)
    // Never in the clear: a peer that published no key gets no signaling through the channel.
    if (to === undefined) return Effect.logWarning(`no encryption key for ${s.to.username}: offer not written`).pipe(Effect.as(undefined))
    return sealer.seal(to, signalContext(s), JSON.stringify(s.description)).pipe(
      Effect.map((sealed): PresenceSignal => ({ ...s, description: { type: s.description.type, sdp: "" }, sealed })),
      Effect.catchAll((e) => Effect.logWarning(`signal to ${s.to.username} not sealed: ${e.detail}`).pipe(Effect.as(undefined)))
    )
  }

  const sealCall = (s: PresenceCallSlot): Effect.Effect<PresenceCallSlot | undefined> => {
    const to = keyOf(s.to)
    if (to === undefined) return Effect.logWarning(`no encryption key for ${s.to.username}: call slot not written`).pipe(Effect.as(undefined))
    return sealer.seal(to, callContext(s), encodeCallSignals(s.signals)).pipe(
      Effect.map((sealed): PresenceCallSlot => ({ ...s, signals: [], sealed })),
      Effect.catchAll((e) => Effect.logWarning(`call slot to ${s.to.username} not sealed: ${e.detail}`).pipe(Effect.as(undefined)))
    )
  }

  const openSignal = (s: PresenceSignal): Effect.Effect<Either.Either<PresenceSignal, string>> => {
    const from = keyOf(s.from)
    if (s.sealed === undefined) return Effect.succeed(Either.left(`signal from ${s.from.username} is not sealed`))
    if (from === undefined) return Effect.succeed(Either.left(`signal from ${s.from.username}: no published key`))
    const sealed = s.sealed
    return sealer.open(from, signalContext(s), sealed).pipe(
      Effect.map((text) =>
        Either.match(decodeDescription(text), {
          onLeft: () => Either.left(`signal from ${s.from.username}: sealed description malformed`),
          onRight: (description) =>
            description.type === s.description.type
              ? Either.right<PresenceSignal>({ from: s.from, to: s.to, attempt: s.attempt, at: s.at, description })
              : Either.left(`signal from ${s.from.username}: sealed type differs`)
        })
      ),
      Effect.catchAll((e) => Effect.succeed(Either.left(`signal from ${s.from.username}: ${e.detail}`)))
    )
  }

  const openCall = (s: PresenceCallSlot): Effect.Effect<Either.Either<PresenceCallSlot, string>> => {
    const from = keyOf(s.from)
    if (s.sealed === undefined) return Effect.succeed(Either.left(`call slot from ${s.from.username} is not sealed`))
    if (from === undefined) return Effect.succeed(Either.left(`call slot from ${s.from.username}: no published key`))
    return sealer.open(from, callContext(s), s.sealed).pipe(
      Effect.map((text) =>
        Either.match(decodeCallSignals(text), {
          onLeft: () => Either.left(`call slot from ${s.from.username}: sealed signals malformed`),
          onRight: (signals) => {
            const slot: PresenceCallSlot = { from: s.from, to: s.to, at: s.at, signals }
            const problem = callSlotProblem(slot)
            return problem === undefined ? Either.right(slot) : Either.left(problem)
          }
        })
      ),
      Effect.catchAll((e) => Effect.succeed(Either.left(`call slot from ${s.from.username}: ${e.detail}`)))
    )
  }

  const open = (snap: PresenceSnapshot): Effect.Effect<PresenceSnapshot> =>
    Effect.gen(function* () {
      const skipped: Array<Skipped> = [...snap.skipped]
      for (const entry of snap.document.entries) {
        const problem = pin(entry)
        if (problem !== undefined) skipped.push(problem)
      }
      // Only what is addressed to this session is opened; the rest is nobody's business here.
      const signals: Array<PresenceSignal> = []
      for (const s of snap.document.signals.filter((x) => samePeer(x.to, self))) {
        const opened = yield* openSignal(s)
        if (Either.isRight(opened)) signals.push(opened.right)
        else skipped.push({ detail: opened.left })
      }
      const calls: Array<PresenceCallSlot> = []
      for (const s of (snap.document.calls ?? []).filter((x) => samePeer(x.to, self))) {
        const opened = yield* openCall(s)
        if (Either.isRight(opened)) calls.push(opened.right)
        else skipped.push({ detail: opened.left })
      }
      return { changed: snap.changed, skipped, document: { entries: snap.document.entries, signals, calls } }
    })

  return {
    form: inner.form,
    identities: inner.identities,
    writesForOthers: inner.writesForOthers,
    // Every read opens what is addressed to this session afresh: a handful of AES-GCM
    // decryptions, and no cache to go stale when the adapter's version moves under it.
    read: Effect.flatMap(inner.read, open),
    publish: (change: PresenceChange) =>
      Effect.gen(function* () {
        // Bounds hold for what is sealed, not only for the (larger) box.
        const problem = changeProblem(change)
        if (problem !== undefined) return yield* new PresenceMalformed({ detail: problem })
        const signals = (yield* Effect.forEach(change.signals, sealSignal)).filter((s): s is PresenceSignal => s !== undefined)
        const calls = (yield* Effect.forEach(change.calls ?? [], sealCall)).filter((s): s is PresenceCallSlot => s !== undefined)
        yield* inner.publish({ upsert: change.upsert.map(withKey), remove: change.remove, signals, calls })
      })
  }
}
