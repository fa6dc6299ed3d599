/**
 * Typing notices and announced conversations over the simulated mesh: scoped to the
 * conversation (a direct one reaches only its other user), never stored, and a hostile
 * peer's notices or messages that do not fit are refused and counted.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Activity } from "../../src/app/context.js"
import { peerKey } from "../../src/domain/identity.js"
import { ConversationId, directConversation } from "../../src/domain/message.js"
import { Mesh, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const release = ConversationId.make("release")
const general = ConversationId.make("general")
const seconds = (n: number) => Effect.sleep(`${n} seconds`)

/** Everything `peer` hears of others' activity, as `tag conversation from`. */
const listen = (peer: SimPeer) =>
  Effect.gen(function* () {
    const heard: Array<string> = []
    yield* Effect.forkScoped(Stream.runForEach(peer.handle.activity, (a: Activity) => Effect.sync(() => heard.push(`${a._tag} ${a.conversation} ${a.from.username}`))))
    return heard
  })

const frame = (from: SimPeer, payload: unknown, at = 1) =>
  JSON.stringify({ v: 1, id: `${from.id.sessionId}.x.${Math.random().toString(36).slice(2, 8)}`, type: "chat", from: from.id, to: null, timestamp: at, payload })

describe("activity in conversations", () => {
  it("typing reaches those in the conversation only; hostile notices and messages are refused and counted", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          const alice = yield* mesh.start("alice")
          const bob = yield* mesh.start("bob")
          const carol = yield* mesh.start("carol")
          const mallory = yield* mesh.start("mallory")
          yield* seconds(40)
          const [atBob, atCarol] = [yield* listen(bob), yield* listen(carol)]
          yield* seconds(1)

          yield* alice.handle.sendActivity("typing", release)
          yield* alice.handle.sendActivity("topic", release)
          yield* alice.handle.sendActivity("typing", directConversation("alice", "bob"))
          yield* seconds(2)
          expect(atBob).toEqual(["typing release alice", "topic release alice", "typing dm--alice--bob alice"])
          expect(atCarol).toEqual(["typing release alice", "topic release alice"])

          const before = (yield* carol.handle.view).rejections.length
          const historyBefore = yield* carol.handle.history(general, 100)
          const inject = (payload: unknown) => mesh.network.injectRaw(mallory.id, carol.id, frame(mallory, payload))
          // Typing in a direct conversation carol is not in; announcing a direct conversation; an oversized name.
          yield* inject({ _tag: "typing", conversation: directConversation("alice", "bob") })
          yield* inject({ _tag: "topic", conversation: directConversation("alice", "mallory") })
          yield* inject({ _tag: "topic", conversation: "x".repeat(5_000) })
          yield* inject({ _tag: "typing", conversation: "../../etc" })
          // A message in someone else's direct conversation, and one spoofing alice.
          const msg = (id: string, conversation: string, author: string, session: string) => ({
            _tag: "message",
            message: { id, conversation, author, session, sentAt: 1, text: "<img src=x onerror=alert(1)>" }
          })
          yield* inject(msg("m1", directConversation("alice", "carol"), "mallory", mallory.id.sessionId))
          yield* inject(msg("m2", "general", "alice", alice.id.sessionId))
          yield* mesh.network.injectRaw(mallory.id, carol.id, "{not json")
          yield* seconds(2)
          expect(atCarol).toEqual(["typing release alice", "topic release alice"])
          const after = yield* carol.handle.view
          expect(after.rejections.length - before).toBe(7)
          expect(after.rejections.slice(-7).every((r) => r.from.startsWith("mallory") || r.from === peerKey(mallory.id))).toBe(true)
          expect(yield* carol.handle.history(general, 100)).toEqual(historyBefore)
          expect(yield* carol.handle.history(directConversation("alice", "carol"), 100)).toEqual([])
        })
      )
    ))
})
