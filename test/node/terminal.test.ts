/**
 * Issue 13: the Node peer's terminal marks others' logins as unverified in file form (as the
 * web client does), in the people it lists and on every message, for people and in JSON; in
 * Discussion form (GitHub's comment author) nothing is marked. A fake peer feeds it one view
 * and one message; nothing here is timed.
 */
import { describe, expect, it } from "vitest"
import { Effect, Exit, Option, Scope, Stream } from "effect"
import { makePeerId } from "../../src/domain/identity.js"
import { ConversationId, type Message } from "../../src/domain/message.js"
import type { PeerHandle } from "../../src/app/peer.js"
import type { PeerView } from "../../src/app/peer-state.js"
import { startTerminal, type TerminalPeer } from "../../src/node/terminal.js"
import type { NodePeerOptions } from "../../src/node/options.js"

const self = makePeerId("bob", "b1")
const alice = makePeerId("alice", "a1")

const view = (identities: PeerView["identities"]): PeerView => ({
  self,
  links: [{ peer: alice, state: "open" } as PeerView["links"][number]],
  online: [alice],
  component: [self, alice],
  leader: alice,
  isLeader: false,
  rateNotice: undefined,
  presenceProblem: undefined,
  rejections: [],
  waiting: 0,
  people: [],
  refused: {},
  identities
})

const messages: ReadonlyArray<Message> = [
  { id: "m1", conversation: ConversationId.make("general"), author: "alice", session: "a1", sentAt: 1, text: "hi bob" } as Message,
  { id: "m2", conversation: ConversationId.make("general"), author: "bob", session: "b1", sentAt: 2, text: "hi alice" } as Message
]

/** Runs the terminal on a fake peer until both messages are printed; returns every line written. */
const printed = (identities: PeerView["identities"], json: boolean) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const lines: Array<string> = []
      const handle = { view: Effect.succeed(view(identities)), views: Stream.make(view(identities)), messages: Stream.fromIterable(messages) } as unknown as PeerHandle
      const peer: TerminalPeer = { self, transport: { fingerprint: "fp" }, internals: { connectionCount: Effect.succeed(0), path: () => Effect.succeed(Option.none()) } as unknown as TerminalPeer["internals"], handle, startedAt: 0, dataDir: "/tmp/x", bench: undefined }
      const options = { repository: "demo/chat", json } as NodePeerOptions
      yield* Scope.extend(startTerminal(peer, options, { lines: Stream.never, write: (l) => lines.push(l), status: () => undefined }, Effect.void), scope)
      while (lines.filter((l) => l.includes("hi alice")).length === 0 || !lines.some((l) => l.includes("leader"))) yield* Effect.sleep("5 millis")
      yield* Scope.close(scope, Exit.void)
      return lines
    })
  )

describe("Node terminal identities", () => {
  it("file form: others are marked unverified in people lists and on their messages, for people", async () => {
    const out = (await printed("claimed", false)).join("\n")
    expect(out).toContain("online: alice/a1 (unverified)")
    expect(out).toContain("links: alice/a1 (unverified) open")
    expect(out).toContain("leader: alice/a1 (unverified)")
    expect(out).toContain("[general] <alice (unverified)> hi bob")
    // Its own message is its own.
    expect(out).toContain("[general] <bob> hi alice")
  })

  it("file form, JSON: the view says identities are claims and each message whether it is verified", async () => {
    const events = (await printed("claimed", true)).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(events.find((e) => e.event === "view")?.identities).toBe("claimed")
    expect(events.filter((e) => e.event === "message").map((e) => [e.author, e.verified])).toEqual([
      ["alice", false],
      ["bob", true]
    ])
  })

  it("Discussion form: nothing is marked", async () => {
    const out = (await printed("verified", false)).join("\n")
    expect(out).not.toContain("unverified")
    expect(out).toContain("[general] <alice> hi bob")
  })
})
