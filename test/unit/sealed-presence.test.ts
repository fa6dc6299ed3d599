/**
 * Sealed signaling on the presence channel (issue 10 §3), over the in-memory file channel
 * with the WebCrypto sealer: what the channel holds reveals no SDP; only the recipient
 * opens a box; a box forged by another writer, moved to another slot, re-dated or left in
 * the clear is refused with a reason; a session's key cannot be swapped once seen.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeWebCryptoSealer } from "../../src/adapters/crypto/webcrypto-sealer.js"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { makeFilePresence } from "../../src/adapters/memory/presence.js"
import { sealPresence } from "../../src/app/sealed-presence.js"
import { makePeerId } from "../../src/domain/identity.js"
import { noChange, type PresenceCallSlot, type PresenceEntry, type PresenceSignal } from "../../src/domain/presence-doc.js"
import { sealContext } from "../../src/domain/sealed-signal.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")
/** Times relative to the start of the file: the memory channel drops what is past retention by the live clock. */
const T = Date.now()
const SDP = "v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\na=candidate:1 1 udp 2122260223 192.0.2.7 50000 typ host\r\n"

const entry = (p: typeof alice, at: number): PresenceEntry => ({ username: p.username, sessionId: p.sessionId, lastSeen: at })

const setup = Effect.gen(function* () {
  const world = new MemoryGitHub({ latencyMs: 0 })
  const sealers = { alice: yield* makeWebCryptoSealer(), bob: yield* makeWebCryptoSealer(), carol: yield* makeWebCryptoSealer() }
  const raw = { alice: makeFilePresence(world, "alice"), bob: makeFilePresence(world, "bob"), carol: makeFilePresence(world, "carol") }
  const sealed = {
    alice: sealPresence(raw.alice, sealers.alice, alice),
    bob: sealPresence(raw.bob, sealers.bob, bob),
    carol: sealPresence(raw.carol, sealers.carol, carol)
  }
  // Everyone publishes an entry (with its key) and reads the others'.
  for (const [p, id] of [[sealed.alice, alice], [sealed.bob, bob], [sealed.carol, carol]] as const) yield* p.publish({ ...noChange, upsert: [entry(id, T)] })
  for (const p of Object.values(sealed)) yield* p.read
  return { world, sealers, raw, sealed }
})

const offer = (at: number): PresenceSignal => ({ from: alice, to: bob, attempt: "t1", description: { type: "offer", sdp: SDP }, at })

describe("sealed signaling", () => {
  it.live("the channel holds no SDP; the recipient reads the offer, nobody else does", () =>
    Effect.gen(function* () {
      const { raw, sealed, sealers } = yield* setup
      yield* sealed.alice.publish({ ...noChange, signals: [offer(T + 2_000)] })
      const onWire = yield* raw.carol.read
      const text = JSON.stringify(onWire.document)
      expect(text).not.toContain("v=0")
      expect(text).not.toContain("candidate")
      expect(text).not.toContain("192.0.2.7")
      expect(onWire.document.entries.find((e) => e.username === "alice")?.encryptionKey).toBe(sealers.alice.publicKey)
      const atBob = yield* sealed.bob.read
      expect(atBob.document.signals).toEqual([offer(T + 2_000)])
      const atCarol = yield* sealed.carol.read
      expect(atCarol.document.signals).toEqual([])
    })
  )

  it.live("a box forged by another writer, moved, re-dated or left in the clear is refused with a reason", () =>
    Effect.gen(function* () {
      const { raw, sealed, sealers } = yield* setup
      // Carol writes the repository too: she seals her own SDP to Bob and claims it is Alice's.
      const forged = yield* sealers.carol.seal(sealers.bob.publicKey, sealContext("signal", alice, bob, ["t1", "offer", String(T + 2_000)]), JSON.stringify({ type: "offer", sdp: "v=0 mallory" }))
      yield* raw.carol.publish({ ...noChange, signals: [{ ...offer(T + 2_000), description: { type: "offer", sdp: "" }, sealed: forged }] })
      const first = yield* sealed.bob.read
      expect(first.document.signals).toEqual([])
      expect(first.skipped.map((s) => s.detail).join(";")).toMatch(/signal from alice: opening/)

      // Alice's genuine box, re-dated or moved to another attempt by a writer, no longer opens.
      yield* sealed.alice.publish({ ...noChange, signals: [offer(T + 3_000)] })
      const genuine = (yield* raw.carol.read).document.signals.find((s) => s.from.username === "alice")!
      for (const tampered of [{ ...genuine, at: T + 4_000 }, { ...genuine, attempt: "t2" }, { ...genuine, description: { type: "answer" as const, sdp: "" } }]) {
        yield* raw.carol.publish({ ...noChange, signals: [tampered] })
        const seen = yield* sealed.bob.read
        expect(seen.document.signals).toEqual([])
      }
      // In the clear: refused, never used.
      yield* raw.carol.publish({ ...noChange, signals: [offer(T + 5_000)] })
      const clear = yield* sealed.bob.read
      expect(clear.document.signals).toEqual([])
      expect(clear.skipped.map((s) => s.detail).join(";")).toMatch(/not sealed/)
    })
  )

  it.live("a session's key is pinned on first sight: a swapped key is ignored and offers stay sealed to the first", () =>
    Effect.gen(function* () {
      const { raw, sealed, sealers } = yield* setup
      // Carol rewrites Bob's entry with her own key.
      yield* raw.carol.publish({ ...noChange, upsert: [{ ...entry(bob, T + 1_500), encryptionKey: sealers.carol.publicKey }] })
      const atAlice = yield* sealed.alice.read
      expect(atAlice.skipped.map((s) => s.detail).join(";")).toMatch(/encryption key changed/)
      yield* sealed.alice.publish({ ...noChange, signals: [offer(T + 2_000)] })
      expect((yield* sealed.bob.read).document.signals).toEqual([offer(T + 2_000)])
    })
  )

  it.live("call slots are sealed too, and a peer without a published key gets nothing in the clear", () =>
    Effect.gen(function* () {
      const { raw, sealed } = yield* setup
      const slot: PresenceCallSlot = {
        from: alice,
        to: bob,
        at: T + 2_000,
        signals: [{ id: "s1", at: T + 2_000, signal: { _tag: "invite", call: "c1", media: "audio", participants: [alice, bob] } }]
      }
      yield* sealed.alice.publish({ ...noChange, calls: [slot] })
      const onWire = yield* raw.carol.read
      expect(JSON.stringify(onWire.document.calls)).not.toContain("invite")
      expect((yield* sealed.bob.read).document.calls).toEqual([slot])

      const dave = makePeerId("dave", "d1")
      yield* raw.carol.publish({ ...noChange, upsert: [entry(dave, T)] })
      yield* sealed.alice.read
      yield* sealed.alice.publish({ ...noChange, signals: [{ ...offer(T + 2_500), to: dave }] })
      const after = yield* raw.carol.read
      expect(after.document.signals.filter((s) => s.to.username === "dave")).toEqual([])
    })
  )
})
