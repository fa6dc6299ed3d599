/**
 * The lobby's composition (src/adapters/presence-lobby.ts) over two stand-in Presence
 * services, on Effect's TestClock: who writes where, when the lobby is read (and that a
 * pusher never reads, so never creates, a lobby that does not exist), how the two documents
 * merge, and the lobby's share of a read bounded.
 */
import { expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import {
  LOBBY_ANSWER_FAST_FOR_MS,
  LOBBY_FAST_MS,
  LOBBY_KNOCK_FAST_FOR_MS,
  LOBBY_PROBE_MS,
  LOBBY_SLOW_MS,
  makeLobbyPresence,
  mergeLobby
} from "../../src/adapters/presence-lobby.js"
import { explainLobbyFailure, lobbyUnusable } from "../../src/adapters/presence-lobby-github.js"
import { GitHubHttpError, GitHubMisconfigured } from "../../src/adapters/github/errors.js"
import { emptyDocument, MAX_PRESENCE_ENTRIES, noChange, type PresenceChange, type PresenceDocument } from "../../src/domain/presence-doc.js"
import { PresenceUnavailable, type PresenceError, type PresenceService } from "../../src/ports/Presence.js"
import { entry, peer, signal } from "../support/fixtures.js"

/** A stand-in channel: it counts reads, keeps what was published, and serves `doc`. */
const channel = (form: "file" | "discussion") => {
  const box = { doc: emptyDocument as PresenceDocument, reads: 0, published: [] as Array<PresenceChange>, fail: undefined as PresenceError | undefined }
  const service: PresenceService = {
    form,
    identities: form === "file" ? "claimed" : "verified",
    writesForOthers: form === "file",
    publish: (c) =>
      Effect.suspend(() => {
        if (box.fail !== undefined) return Effect.fail(box.fail)
        box.published.push(c)
        return Effect.void
      }),
    read: Effect.sync(() => {
      box.reads += 1
      return { document: box.doc, skipped: [], changed: true }
    })
  }
  return { box, service }
}

const build = (options: { readonly pusher: boolean; readonly exists?: () => boolean }) =>
  Effect.gen(function* () {
    const file = channel("file")
    const lobby = channel("discussion")
    const probes = { n: 0 }
    const presence = yield* makeLobbyPresence({
      file: file.service,
      lobby: lobby.service,
      canPush: Effect.succeed(options.pusher),
      lobbyExists: Effect.sync(() => {
        probes.n += 1
        return options.exists?.() ?? true
      }),
      explain: (e) => (e._tag === "PresenceUnavailable" ? new PresenceUnavailable({ detail: `explained: ${e.detail}`, permanent: true }) : e)
    })
    return { presence, file: file.box, lobby: lobby.box, probes }
  })

/** Reads `presence` every `stepMs` for `totalMs`. */
const pollFor = (presence: PresenceService, totalMs: number, stepMs = LOBBY_FAST_MS) =>
  Effect.gen(function* () {
    for (let t = 0; t < totalMs; t += stepMs) {
      yield* presence.read
      yield* TestClock.adjust(stepMs)
    }
  })

it.effect("a pusher writes only the file, and never reads a lobby that does not exist: it asks once per probe period", () =>
  Effect.gen(function* () {
    const { presence, file, lobby, probes } = yield* build({ pusher: true, exists: () => false })
    expect(presence.writesForOthers).toBe(true)
    yield* presence.publish({ ...noChange, upsert: [entry(peer("bob"), 0)] })
    expect(file.published.length).toBe(1)
    expect(lobby.published).toEqual([])
    yield* pollFor(presence, 3 * LOBBY_PROBE_MS, 10_000)
    expect(lobby.reads).toBe(0)
    expect(probes.n).toBe(3)
  })
)

it.effect("a pusher reads an existing lobby slowly, fast while a fresh lobby entry is not in the file (for a bounded time), then slowly again", () =>
  Effect.gen(function* () {
    const { presence, file, lobby } = yield* build({ pusher: true })
    // Nobody knocking: every LOBBY_SLOW_MS.
    yield* pollFor(presence, 10 * LOBBY_SLOW_MS, 5_000)
    expect(lobby.reads).toBe(10)
    // alice knocks.
    lobby.reads = 0
    const now = 10 * LOBBY_SLOW_MS
    lobby.doc = { entries: [entry(peer("alice"), now)], signals: [], calls: [] }
    yield* pollFor(presence, 30_000)
    expect(lobby.reads).toBeGreaterThanOrEqual(30_000 / LOBBY_FAST_MS - 1)
    // Her entry reaches the file (a refresher copied it): slow again.
    file.doc = { entries: [entry(peer("alice"), now)], signals: [], calls: [] }
    yield* presence.read
    lobby.reads = 0
    yield* pollFor(presence, 5 * LOBBY_SLOW_MS, 5_000)
    expect(lobby.reads).toBeLessThanOrEqual(6)
    // A knock that never gets into the file makes it read fast for LOBBY_KNOCK_FAST_FOR_MS only.
    file.doc = emptyDocument
    lobby.doc = { entries: [entry(peer("carol"), 15 * LOBBY_SLOW_MS)], signals: [], calls: [] }
    lobby.reads = 0
    yield* pollFor(presence, LOBBY_KNOCK_FAST_FOR_MS + 10 * LOBBY_SLOW_MS)
    expect(lobby.reads).toBeLessThanOrEqual(LOBBY_KNOCK_FAST_FOR_MS / LOBBY_FAST_MS + 12)
  })
)

it.effect("a stale lobby entry (a reader that crashed long ago) is nobody knocking", () =>
  Effect.gen(function* () {
    yield* TestClock.adjust(60 * 60_000)
    const { presence, lobby } = yield* build({ pusher: true })
    lobby.doc = { entries: [entry(peer("alice"), 0)], signals: [], calls: [] }
    yield* pollFor(presence, 4 * LOBBY_SLOW_MS, 5_000)
    expect(lobby.reads).toBe(4)
  })
)

it.effect("after writing signaling, a pusher reads the lobby fast for a while (an answer may come back there)", () =>
  Effect.gen(function* () {
    const { presence, lobby } = yield* build({ pusher: true })
    yield* presence.read
    lobby.reads = 0
    yield* presence.publish({ ...noChange, signals: [signal(peer("bob"), peer("alice"), 0)] })
    yield* pollFor(presence, LOBBY_ANSWER_FAST_FOR_MS)
    expect(lobby.reads).toBeGreaterThanOrEqual(LOBBY_ANSWER_FAST_FOR_MS / LOBBY_FAST_MS - 1)
  })
)

it.effect("a reader publishes only to the lobby, writes for nobody else, and reads the file merged with the lobby", () =>
  Effect.gen(function* () {
    const { presence, file, lobby, probes } = yield* build({ pusher: false })
    expect(presence.form).toBe("file")
    expect(presence.writesForOthers).toBe(false)
    yield* presence.publish({ ...noChange, upsert: [entry(peer("alice"), 0)], signals: [signal(peer("alice"), peer("bob"), 0)] })
    expect(file.published).toEqual([])
    expect(lobby.published.length).toBe(1)
    file.doc = { entries: [entry(peer("bob"), 0)], signals: [signal(peer("bob"), peer("alice"), 0, "a2", "answer")], calls: [] }
    lobby.doc = { entries: [entry(peer("alice"), 0)], signals: [signal(peer("alice"), peer("bob"), 0)], calls: [] }
    const snap = yield* presence.read
    expect(snap.document.entries.map((e) => e.username).sort()).toEqual(["alice", "bob"])
    expect(snap.document.signals.length).toBe(2)
    // A reader needs no probe: its own reads and writes make the lobby.
    expect(probes.n).toBe(0)
  })
)

it.effect("a reader whose lobby refuses is told in the words `explain` gives, as a permanent refusal", () =>
  Effect.gen(function* () {
    const { presence, lobby } = yield* build({ pusher: false })
    lobby.fail = new PresenceUnavailable({ detail: "Discussions are disabled" })
    const e = yield* Effect.flip(presence.publish({ ...noChange, upsert: [entry(peer("alice"), 0)] }))
    expect(e._tag).toBe("PresenceUnavailable")
    expect((e as PresenceUnavailable).detail).toBe("explained: Discussions are disabled")
    expect((e as PresenceUnavailable).permanent).toBe(true)
  })
)

it("mergeLobby: an entry in both is the more recently refreshed one; the file's signals are kept", () => {
  const file = { entries: [entry(peer("alice"), 100), entry(peer("bob"), 50)], signals: [signal(peer("bob"), peer("alice"), 1)], calls: [] }
  const lobby = { entries: [entry(peer("alice"), 50), entry(peer("carol"), 70)], signals: [signal(peer("carol"), peer("bob"), 2)], calls: [] }
  const { document, skipped } = mergeLobby(file, lobby)
  expect(document.entries.map((e) => [e.username, e.lastSeen])).toEqual([
    ["alice", 100],
    ["bob", 50],
    ["carol", 70]
  ])
  expect(document.signals.length).toBe(2)
  expect(skipped).toEqual([])
  expect(mergeLobby(file, { ...lobby, entries: [entry(peer("alice"), 200)] }).document.entries[0]!.lastSeen).toBe(200)
})

it("mergeLobby: a hostile lobby's entries are bounded, newest kept, with a reason", () => {
  const many = Array.from({ length: MAX_PRESENCE_ENTRIES + 25 }, (_, i) => entry(peer(`u${i}`), i))
  const { document, skipped } = mergeLobby(emptyDocument, { entries: many, signals: [], calls: [] })
  expect(document.entries.length).toBe(MAX_PRESENCE_ENTRIES)
  expect(Math.min(...document.entries.map((e) => e.lastSeen))).toBe(25)
  expect(skipped.map((s) => s.detail)).toEqual([`lobby: 25 entries past the ${MAX_PRESENCE_ENTRIES} read`])
})

it("explainLobbyFailure: Discussions disabled, no category, or FORBIDDEN become one permanent sentence with what a maintainer must do; other failures pass unchanged", () => {
  const explain = explainLobbyFailure("demo", "chat")
  const unavailable = (cause: unknown) => new PresenceUnavailable({ detail: "raw", cause })
  const cases = [
    [new GitHubMisconfigured({ detail: "Discussions are disabled on demo/chat: enable them" }), "disabled"],
    [new GitHubMisconfigured({ detail: "You may not start a discussion in any category of demo/chat" }), "no-category"],
    [new GitHubHttpError({ status: 200, message: "Resource not accessible by integration", type: "FORBIDDEN" }), "forbidden"]
  ] as const
  for (const [cause, why] of cases) {
    const e = explain(unavailable(cause)) as PresenceUnavailable
    expect(e.detail).toBe(lobbyUnusable("demo", "chat", why))
    expect(e.permanent).toBe(true)
  }
  expect(lobbyUnusable("demo", "chat", "no-category")).toContain('titled exactly "SkyGit Presence: demo/chat"')
  const other = unavailable(new GitHubHttpError({ status: 502, message: "Bad Gateway" }))
  expect(explain(other)).toBe(other)
})
