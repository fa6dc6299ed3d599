/**
 * Issues 8 and 13 together, in virtual time: a relayed message of another user is taken
 * only with its author session's signature, so a crashed author's messages still reach
 * everyone and the repository, while a hand-off "by alice" from bob stays refused.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { ConversationId, MessageId, type Message } from "../../src/domain/message.js"
import { signedText } from "../../src/domain/message-signature.js"
import { Mesh, type MeshOptions, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const seconds = (n: number) => Effect.sleep(`${n} seconds`)
const nowMs = Effect.clockWith((c) => c.currentTimeMillis)
const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))
const reasons = (p: SimPeer) => Effect.map(p.handle.view, (v) => v.rejections.map((r) => r.reason))
const shown = (p: SimPeer) => Effect.as(p.collectDisplayed, p.displayed)

describe("relayed messages with their author's signature", () => {
  it("a crashed author's signed message, handed on by another user, is shown and committed; a bad signature is refused", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* seconds(60)
        // Alice wrote this and crashed before anyone but bob had it: bob hands it on.
        const at = (yield* nowMs) - 1
        const unsigned: Message = { id: MessageId.make("alice-late-1"), conversation: ConversationId.make("general"), author: alice.id.username, session: alice.id.sessionId, sentAt: at, text: "before I go" }
        const signer = mesh.signingKeys.signerFor(alice.id.username, alice.id.sessionId)
        const good: Message = { ...unsigned, signature: Effect.runSync(signer.sign(signedText(unsigned))) }
        const altered: Message = { ...good, id: MessageId.make("alice-late-2"), text: "I resign" }
        // Signed by bob's own key, claiming alice: verifies against no key alice's session published.
        const bobs = mesh.signingKeys.signerFor(bob.id.username, bob.id.sessionId)
        const byBob0: Message = { ...unsigned, id: MessageId.make("alice-late-3"), text: "bob says" }
        const byBob: Message = { ...byBob0, signature: Effect.runSync(bobs.sign(signedText(byBob0))) }
        yield* mesh.crash(alice)
        yield* mesh.network.injectRaw(
          bob.id,
          carol.id,
          JSON.stringify({ v: 1, id: "h1", type: "chat", from: bob.id, to: { username: "carol", sessionId: carol.id.sessionId }, timestamp: 1, payload: { _tag: "handoff", messages: [good, altered, byBob] } })
        )
        yield* seconds(2)
        expect((yield* shown(carol)).has("alice-late-1")).toBe(true)
        expect((yield* shown(carol)).has("alice-late-2")).toBe(false)
        expect((yield* shown(carol)).has("alice-late-3")).toBe(false)
        expect((yield* reasons(carol)).filter((r) => r.startsWith("relayed-bad-signature")).length).toBe(2)
        yield* carol.handle.flushNow
        yield* bob.handle.flushNow
        yield* seconds(10 * 60)
        const written = mesh.world.commits.flatMap((c) => c.files.map((f) => f.content))
        expect(written.some((f) => f.includes("alice-late-1"))).toBe(true)
        expect(written.some((f) => f.includes("alice-late-2") || f.includes("alice-late-3"))).toBe(false)
      })
    ))

  it("an unsigned message of another user, or one of a session that published no key, is refused with a reason", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        yield* seconds(60)
        const at = (yield* nowMs) - 1
        const base = { conversation: ConversationId.make("general"), author: alice.id.username, sentAt: at, text: "hi" }
        const unsigned: Message = { ...base, id: MessageId.make("x-1"), session: alice.id.sessionId }
        const ghost0: Message = { ...base, id: MessageId.make("x-2"), session: "ghost" as Message["session"] }
        const ghost: Message = { ...ghost0, signature: Effect.runSync(mesh.signingKeys.signerFor("alice", "ghost").sign(signedText(ghost0))) }
        yield* mesh.network.injectRaw(
          bob.id,
          alice.id,
          JSON.stringify({ v: 1, id: "c1", type: "chat", from: bob.id, to: { username: "alice", sessionId: alice.id.sessionId }, timestamp: 1, payload: { _tag: "catchup", messages: [unsigned, ghost] } })
        )
        yield* seconds(2)
        const r = yield* reasons(alice)
        // Alice's own user may bring her messages; these come from bob.
        expect(r.some((x) => x.startsWith("relayed-author") && x.includes("without a signature"))).toBe(true)
        expect(r.some((x) => x.startsWith("relayed-unknown-key") && x.includes("x-2"))).toBe(true)
      })
    ))
})
