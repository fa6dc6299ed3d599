/**
 * Issue 13, in virtual time: fake, silent and lying peers cost bounded work, hold no role
 * and cannot speak for anyone else. Each test names the row of the tables it covers.
 * Fake and silent peers are entries an attacker writes into the presence file (hundreds at
 * once); lying peers are frames injected on a real peer's connection.
 */
import { describe, expect, it } from "vitest"
import { Effect, Either } from "effect"
import { makePeerId, peerKey, samePeer, type PeerId } from "../../src/domain/identity.js"
import { ConversationId } from "../../src/domain/message.js"
import { applyChange, decodeDocument, emptyDocument, encodeDocument, MAX_PRESENCE_DOCUMENT, noChange, type PresenceEntry } from "../../src/domain/presence-doc.js"
import { Mesh, type MeshOptions, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"
import { MAX_FIRST_KNOWN, MAX_RELAYED_OFFERS_PER_MINUTE } from "../../src/app/mesh.js"
import { MAX_ATTEMPTS_IN_FLIGHT } from "../../src/domain/mesh-reconcile.js"
import { MAX_CONSIDERED_ENTRIES } from "../../src/app/presence-loop.js"
import { MAX_CHAT_MESSAGES_PER_WINDOW, MAX_SUMMARIES_PER_MINUTE } from "../../src/app/chat.js"

const general = ConversationId.make("general")
const seconds = (n: number) => Effect.sleep(`${n} seconds`)
const nowMs = Effect.clockWith((c) => c.currentTimeMillis)

const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

/** The presence document as the world holds it now. */
const documentOf = (mesh: Mesh) => {
  const file = mesh.world.presenceFile
  if (file === undefined) return emptyDocument
  return Either.match(decodeDocument(file.text), { onLeft: () => emptyDocument, onRight: (d) => d.document })
}

/** An attacker with write access adds (or refreshes) entries of made-up sessions, with fingerprints, and takes out `remove`. */
const writeFakes = (mesh: Mesh, fakes: ReadonlyArray<PeerId>, remove: ReadonlyArray<PeerId> = []) =>
  Effect.map(nowMs, (at) => {
    const upsert: Array<PresenceEntry> = fakes.map((p) => ({ ...p, lastSeen: at, fingerprint: `sim-fake-${peerKey(p)}` }))
    mesh.world.writePresenceFile(encodeDocument(applyChange(documentOf(mesh), { ...noChange, upsert, remove }, at)))
  })

/** Keeps the fake entries fresh every 20 s, as a persistent attacker would. */
const keepFresh = (mesh: Mesh, fakes: ReadonlyArray<PeerId>): Effect.Effect<void> =>
  Effect.asVoid(Effect.forkDaemon(Effect.forever(Effect.zipRight(writeFakes(mesh, fakes), seconds(20)))))

const openTo = (p: SimPeer, q: SimPeer) =>
  Effect.map(p.handle.view, (v) => v.links.some((l) => samePeer(l.peer, q.id) && l.state === "open"))

/** Virtual seconds until `p` has open links to every one of `others` (or `limit`). */
const secondsToLink = (p: SimPeer, others: ReadonlyArray<SimPeer>, limit: number) =>
  Effect.gen(function* () {
    for (let s = 0; s <= limit; s++) {
      const all = yield* Effect.forEach(others, (q) => openTo(p, q))
      if (all.every(Boolean)) return s
      yield* seconds(1)
    }
    return Number.POSITIVE_INFINITY
  })

const inFlight = (p: SimPeer) => Array.from(p.handle.state.links.values()).filter((l) => l.attempt !== undefined && l.state !== "open").length

const chat = (from: PeerId, id: string, text: string, author: PeerId = from) =>
  JSON.stringify({
    v: 1,
    id,
    type: "chat",
    from,
    to: null,
    timestamp: 1,
    payload: { _tag: "message", message: { id: `${author.sessionId}-${id}`, conversation: "general", author: author.username, session: author.sessionId, sentAt: 1, text } }
  })

describe("presence file rows", () => {
  it("one silent entry smaller than everyone: it takes no role, and a newcomer links in its normal time", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* seconds(60)
        const normal = yield* secondsToLink(yield* mesh.start("erin"), [bob, carol], 120)
        yield* keepFresh(mesh, [makePeerId("aaa", "silent")])
        yield* seconds(90)
        const dave = yield* mesh.start("dave")
        const withSilent = yield* secondsToLink(dave, [bob, carol], 120)
        // The same time as a join without the silent entry (a few seconds), not a minute or never.
        expect(withSilent).toBeLessThanOrEqual(normal + 5)
        for (const p of mesh.running) expect(peerKey((yield* p.handle.view).leader!)).not.toBe("aaa/silent")
      })
    ))

  /** Virtual seconds a newcomer "adam" (smaller than the mesh bob, carol) takes to link to both, beside `silent` entries. */
  const smallNewcomerJoin = (silent: ReadonlyArray<PeerId>) =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        if (silent.length > 0) yield* keepFresh(mesh, silent)
        // Long past the silent entries' grace for the mesh: they hold no role there.
        yield* seconds(90)
        expect(yield* openTo(bob, carol)).toBe(true)
        const adam = yield* mesh.start("adam")
        const linked = yield* secondsToLink(adam, [bob, carol], 120)
        // The leader is elected at the next tick.
        yield* seconds(2)
        const leaders = yield* Effect.forEach(mesh.running, (p) => Effect.map(p.handle.view, (v) => (v.leader === undefined ? "none" : peerKey(v.leader))))
        return { linked, leaders }
      })
    )

  it("a newcomer smaller than the mesh, beside any number of silent entries smaller still, links in its normal time", async () => {
    const normal = await smallNewcomerJoin([])
    expect(normal.linked).toBeLessThan(15)
    for (const silent of [[makePeerId("aaa", "silent")], Array.from({ length: 50 }, (_, i) => makePeerId("aa-silent", `s${i}`))]) {
      const beside = await smallNewcomerJoin(silent)
      // About the same virtual time (a couple of seconds), not the silent entries' role grace (45 s).
      expect(beside.linked).toBeLessThanOrEqual(normal.linked + 2)
      expect(new Set(beside.leaders)).toEqual(new Set([peerKey(makePeerId("adam", "s3"))]))
    }
  })

  it("hundreds of made-up entries: attempts in flight and entries considered stay bounded, roles stay real, chat goes on", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* seconds(60)
        // Half sort before everyone (would-be sponsors and leaders), half after (would-be offer targets).
        const fakes = Array.from({ length: 400 }, (_, i) => makePeerId(i % 2 === 0 ? "aa-fake" : "zz-fake", `f${i}`))
        yield* keepFresh(mesh, fakes)
        let maxInFlight = 0
        let maxOnline = 0
        for (let s = 0; s < 180; s++) {
          yield* seconds(1)
          for (const p of mesh.running) {
            maxInFlight = Math.max(maxInFlight, inFlight(p))
            maxOnline = Math.max(maxOnline, p.handle.state.online.size)
          }
        }
        expect(maxInFlight).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_FLIGHT)
        expect(maxOnline).toBeLessThanOrEqual(MAX_CONSIDERED_ENTRIES)
        expect(yield* openTo(bob, carol)).toBe(true)
        const dave = yield* mesh.start("dave")
        expect(yield* secondsToLink(dave, [bob, carol], 60)).toBeLessThan(60)
        // The leader is elected at the next tick.
        yield* seconds(2)
        for (const p of mesh.running) expect((yield* p.handle.view).leader?.username).toBe("bob")
        yield* carol.handle.send(general, "still here")
        yield* seconds(5)
        expect((yield* bob.handle.history(general, 5)).map((m) => m.text)).toContain("still here")
        expect((yield* bob.handle.view).refused["entries-bound"]).toBeGreaterThan(0)
      })
    ))

  it("made-up sessions renamed at every read: what a peer remembers of first sightings stays bounded, roles stay real", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* seconds(60)
        // Every 5 s the attacker replaces its made-up entries with as many new ones as a peer takes in.
        let previous: ReadonlyArray<PeerId> = []
        const rounds = Math.ceil((MAX_FIRST_KNOWN * 2) / MAX_CONSIDERED_ENTRIES)
        let maxKnown = 0
        for (let round = 0; round < rounds; round++) {
          const fakes = Array.from({ length: MAX_CONSIDERED_ENTRIES }, (_, i) => makePeerId(i % 2 === 0 ? "aa-fake" : "zz-fake", `r${round}f${i}`))
          yield* writeFakes(mesh, fakes, previous)
          previous = fakes
          yield* seconds(5)
          for (const p of mesh.running) maxKnown = Math.max(maxKnown, p.handle.state.firstKnown.size)
        }
        // Far more made-up sessions were seen than the bound, and the bound (plus one grace's worth) held.
        expect(rounds * MAX_CONSIDERED_ENTRIES).toBeGreaterThan(MAX_FIRST_KNOWN * 1.5)
        expect(maxKnown).toBeLessThanOrEqual(MAX_FIRST_KNOWN + MAX_CONSIDERED_ENTRIES)
        // The real sessions are still known, linked and leading.
        expect(bob.handle.state.firstKnown.has(peerKey(carol.id))).toBe(true)
        expect(yield* openTo(bob, carol)).toBe(true)
        yield* seconds(2)
        for (const p of mesh.running) expect((yield* p.handle.view).leader?.username).toBe("bob")
      })
    ))

  it.each([
    ["invalid JSON", () => "{ not json"],
    ["a wrong shape", () => JSON.stringify({ version: 1, entries: "nope", signals: [] })],
    ["over 1 MB", () => JSON.stringify({ version: 1, entries: [], signals: [], padding: "x".repeat(MAX_PRESENCE_DOCUMENT) })]
  ])("%s: rewritten within one poll interval from the last good version, with a short sentence for users", (_, corrupt) =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* seconds(60)
        const before = documentOf(mesh).entries.map((e) => `${e.username}/${e.sessionId} ${e.fingerprint}`).sort()
        expect(before).toHaveLength(2)
        mesh.world.writePresenceFile(corrupt())
        yield* seconds(1)
        let repairedAfter = Number.POSITIVE_INFINITY
        let sentence: string | undefined
        for (let s = 1; s <= 20; s++) {
          yield* seconds(1)
          sentence ??= (yield* bob.handle.view).presenceProblem ?? (yield* carol.handle.view).presenceProblem
          if (Either.isRight(decodeDocument(mesh.world.presenceFile!.text))) {
            repairedAfter = s
            break
          }
        }
        // One poll interval of a mesh member is 15 s.
        expect(repairedAfter).toBeLessThanOrEqual(16)
        expect(documentOf(mesh).entries.map((e) => `${e.username}/${e.sessionId} ${e.fingerprint}`).sort()).toEqual(before)
        expect(sentence).toBe("The presence file is damaged; SkyGit is repairing it.")
        expect(yield* openTo(bob, carol)).toBe(true)
      })
    ))

  it("file deleted: recreated with every session's fingerprint", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        yield* mesh.start("bob")
        yield* mesh.start("carol")
        yield* mesh.start("dave")
        yield* seconds(60)
        const before = documentOf(mesh).entries.map((e) => `${e.username}/${e.sessionId} ${e.fingerprint}`).sort()
        expect(before).toHaveLength(3)
        mesh.world.presenceFile = undefined
        yield* seconds(5 * 60)
        const after = documentOf(mesh).entries.map((e) => `${e.username}/${e.sessionId} ${e.fingerprint}`).sort()
        expect(after).toEqual(before)
      })
    ))

  it("an entry claiming alice with another session and a fake fingerprint: file-form identities show as unverified claims, and it never connects", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        yield* seconds(30)
        yield* keepFresh(mesh, [makePeerId("alice", "zz-forged")])
        yield* seconds(120)
        const view = yield* bob.handle.view
        expect(view.identities).toBe("claimed")
        expect(view.links.find((l) => l.peer.sessionId === "zz-forged")?.state).not.toBe("open")
        expect(yield* openTo(alice, bob)).toBe(true)
      })
    ))
})

describe("data channel rows (a member running a modified peer)", () => {
  /** Alice and bob linked; carol too, so a leader and a hand-off exist. */
  const trio = (mesh: Mesh) =>
    Effect.gen(function* () {
      const alice = yield* mesh.start("alice")
      const bob = yield* mesh.start("bob")
      const carol = yield* mesh.start("carol")
      yield* seconds(60)
      return { alice, bob, carol }
    })

  it("a neighbor list naming a session that does not exist: no one takes the phantom as leader", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, carol } = yield* trio(mesh)
        const phantom = makePeerId("aaa", "phantom")
        yield* mesh.network.injectRaw(
          bob.id,
          carol.id,
          JSON.stringify({ v: 1, id: "n1", type: "presence", from: bob.id, to: null, timestamp: 1, payload: { _tag: "heartbeat", neighbors: [alice.id, carol.id, phantom] } })
        )
        yield* seconds(5)
        const view = yield* carol.handle.view
        expect(view.component.map(peerKey)).not.toContain(peerKey(phantom))
        expect(peerKey(view.leader!)).toBe(peerKey(alice.id))
        expect(alice.handle.state.leadership.isLeader).toBe(true)
      })
    ))

  it("a member that claims to lead takes nothing from the leader, and a non-boolean claim is refused", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, carol } = yield* trio(mesh)
        expect(alice.handle.state.leadership.isLeader).toBe(true)
        // Carol (not the smallest) says she leads, to alice and to bob, every second for a minute.
        for (let i = 0; i < 60; i++) {
          for (const to of [alice.id, bob.id])
            yield* mesh.network.injectRaw(
              carol.id,
              to,
              JSON.stringify({ v: 1, id: `l${i}`, type: "presence", from: carol.id, to: null, timestamp: 1, payload: { _tag: "heartbeat", leads: true } })
            )
          yield* seconds(1)
        }
        expect(alice.handle.state.leadership.isLeader).toBe(true)
        expect(bob.handle.state.leadership.isLeader).toBe(false)
        expect(peerKey((yield* bob.handle.view).leader!)).toBe(peerKey(alice.id))
        const before = (yield* alice.handle.view).refused["malformed"] ?? 0
        yield* mesh.network.injectRaw(
          carol.id,
          alice.id,
          JSON.stringify({ v: 1, id: "bad", type: "presence", from: carol.id, to: null, timestamp: 1, payload: { _tag: "heartbeat", leads: "yes" } })
        )
        yield* seconds(2)
        expect((yield* alice.handle.view).refused["malformed"]).toBe(before + 1)
        expect(yield* openTo(alice, carol)).toBe(true)
      })
    ))

  it("100 relayed offers from invented senders: bounded per neighbor and refused without a published fingerprint", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, carol } = yield* trio(mesh)
        for (let i = 0; i < 100; i++) {
          const origin = makePeerId("aa-invented", `i${i}`)
          yield* mesh.network.injectRaw(
            bob.id,
            carol.id,
            JSON.stringify({
              v: 1,
              id: `o${i}`,
              type: "signal",
              from: bob.id,
              to: null,
              timestamp: 1,
              payload: { _tag: "description", origin, target: carol.id, attempt: `i${i}.1`, description: { type: "offer", sdp: "v=0 invented" } }
            })
          )
        }
        yield* seconds(20)
        const view = yield* carol.handle.view
        expect(view.refused["relayed-offer-rate"]).toBe(100 - MAX_RELAYED_OFFERS_PER_MINUTE)
        expect(view.refused["no-fingerprint"]).toBe(MAX_RELAYED_OFFERS_PER_MINUTE)
        expect(view.links.filter((l) => l.peer.username === "aa-invented" && l.state !== "discovered")).toEqual([])
        expect(yield* openTo(carol, alice)).toBe(true)
        expect(yield* openTo(carol, bob)).toBe(true)
      })
    ))

  it("a chat flood: excess refused with a reason and the sender's connection cut, chat from others goes on", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, carol } = yield* trio(mesh)
        for (let i = 0; i < 1_000; i++) yield* mesh.network.injectRaw(bob.id, alice.id, chat(bob.id, `f${i}`, `flood ${i}`))
        yield* seconds(1)
        const view = yield* alice.handle.view
        // Frames already on their way when the connection is cut are refused too.
        expect(view.refused["chat-rate"]).toBe(1_000 - MAX_CHAT_MESSAGES_PER_WINDOW)
        expect(view.refused["flood-cut"]).toBeGreaterThanOrEqual(1)
        expect((yield* alice.handle.history(general, 2_000)).length).toBe(MAX_CHAT_MESSAGES_PER_WINDOW)
        yield* carol.handle.send(general, "from carol")
        yield* seconds(2)
        expect((yield* alice.handle.history(general, 2_000)).map((m) => m.text)).toContain("from carol")
      })
    ))

  it("repeated catch-up summaries asking for one back: a few answered a minute, the rest refused", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob } = yield* trio(mesh)
        // Past the minute of the summaries sent when the links opened.
        yield* seconds(61)
        const summary = (i: number) =>
          JSON.stringify({ v: 1, id: `sum${i}`, type: "chat", from: bob.id, to: alice.id, timestamp: 1, payload: { _tag: "summary", since: 0, ids: [], ask: true } })
        const before = alice.handle.state.refused.get("summary-rate") ?? 0
        for (let i = 0; i < 100; i++) yield* mesh.network.injectRaw(bob.id, alice.id, summary(i))
        yield* seconds(1)
        expect((alice.handle.state.refused.get("summary-rate") ?? 0) - before).toBe(100 - MAX_SUMMARIES_PER_MINUTE)
        // A minute later bob is answered again.
        yield* seconds(61)
        const refused = alice.handle.state.refused.get("summary-rate") ?? 0
        yield* mesh.network.injectRaw(bob.id, alice.id, summary(100))
        yield* seconds(1)
        expect(alice.handle.state.refused.get("summary-rate") ?? 0).toBe(refused)
      })
    ))
})
