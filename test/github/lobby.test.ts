/**
 * The lobby (issue 9): a user who may read but not push joins a file-form repository through
 * the presence Discussion, and a pusher commits their messages. Peers run in virtual time on
 * the simulated network; every GitHub request goes over real HTTP to a hub on 127.0.0.1 with
 * `read-only:alice`, through the real adapters the browser and Node rooms compose.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { lobbyUnusable, makeGitHubLobbyPresence } from "../../src/adapters/presence-lobby-github.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { entry, peer } from "../support/fixtures.js"
import { LOBBY_PROBE_MS } from "../../src/adapters/presence-lobby.js"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { ConversationId } from "../../src/domain/message.js"
import { createHub, serveHub, type Exchange, type RepoSpec } from "../../src/hub/index.js"
import { gitHubBackend } from "../../src/main/sim.js"
import { Mesh, type GitHubBackend } from "../../src/sim/harness.js"
import { ExternalWork, runVirtualAsyncOrThrow } from "../../src/sim/virtual-time.js"
import { OWNER, NAME, REPO, servedHub } from "./hub-fixture.js"

const general = ConversationId.make("general")

/** Whether `view` shows `user` with an open link. */
const openTo = (view: { readonly people: ReadonlyArray<{ readonly username: string; readonly sessions: ReadonlyArray<{ readonly state: string }> }> }, user: string) =>
  view.people.some((p) => p.username === user && p.sessions.some((s) => s.state === "open"))

interface Outcome {
  readonly aliceView: { readonly presenceProblem?: string | undefined; readonly historyNotice?: string | undefined }
  readonly aliceOpen: boolean
  readonly bobOpen: boolean
  readonly bobSawAlice: boolean
  /** Messages of SkyGit's branch, newest first, and the paths each commit changed. */
  readonly history: ReadonlyArray<{ readonly message: string; readonly paths: ReadonlyArray<string>; readonly content: string }>
  /** `METHOD path status` of each user's requests. */
  readonly requests: Readonly<Record<string, ReadonlyArray<string>>>
  readonly presenceFile: string | undefined
}

/** alice (read-only) and bob (pusher) on a hub served over HTTP, for `minutes`; alice says something once connected. */
const run = (options: { readonly repo?: RepoSpec; readonly faults?: ReadonlyArray<string>; readonly minutes: number; readonly bobFirst?: boolean }): Promise<Outcome> => {
  const work = new ExternalWork()
  return runVirtualAsyncOrThrow(
    Effect.scoped(
      Effect.gen(function* () {
        const clock = yield* Effect.clock
        const hub = yield* Effect.promise(() =>
          work.track(() =>
            createHub({ users: ["alice", "bob"], repos: [options.repo ?? REPO], now: () => clock.unsafeCurrentTimeMillis(), faults: ["read-only:alice", ...(options.faults ?? [])] })
          )
        )
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => work.track(() => serveHub(hub, { port: 0 }))),
          (s) => Effect.promise(() => s.close())
        )
        const requests: Record<string, Array<string>> = { alice: [], bob: [] }
        hub.onExchange((e: Exchange) => {
          const auth = e.requestHeaders["authorization"] ?? ""
          const query = String((e.requestBody as { query?: unknown } | undefined)?.query ?? "")
          const kind = /^\s*mutation\b/.test(query) ? " mutation" : ""
          for (const u of ["alice", "bob"]) if (auth.endsWith(hub.tokenOf(u))) requests[u]!.push(`${e.method} ${new URL(e.url).pathname} ${e.status}${kind}`)
        })
        // Every request a real one over a socket, tracked so virtual time waits for it.
        const overHttp = { handle: (request: Request) => work.track(() => fetch(request)), tokenOf: (u: string) => hub.tokenOf(u) }
        const backend: GitHubBackend = {
          forUser: (user) =>
            Effect.map(gitHubBackend(overHttp, user, { repository: REPO, baseUrl: server.url }), (s) => ({ presence: s.presence("file"), repo: s.repo }))
        }
        const mesh = yield* Mesh.make({ presence: "file", backend })
        const first = options.bobFirst === true ? "bob" : "alice"
        const a0 = yield* mesh.start(first)
        yield* Effect.sleep("20 seconds")
        const b0 = yield* mesh.start(first === "alice" ? "bob" : "alice")
        const [alice, bob] = first === "alice" ? [a0, b0] : [b0, a0]
        // Wait (in virtual time) for the link, then speak.
        for (let i = 0; i < options.minutes * 6; i++) {
          if (openTo(yield* alice.handle.view, "bob")) break
          yield* Effect.sleep("10 seconds")
        }
        const aliceOpen = openTo(yield* alice.handle.view, "bob")
        if (aliceOpen) yield* alice.handle.send(general, "a reader speaks")
        yield* Effect.sleep(`${options.minutes} minutes`)
        const bobView = yield* bob.handle.view
        const log = yield* Effect.promise(() => work.track(() => hub.git.log(REPO, "skygit").catch(() => [])))
        const history: Array<{ message: string; paths: ReadonlyArray<string>; content: string }> = []
        for (const c of log) {
          const files = c.paths.filter((p) => p !== PRESENCE_PATH && p.endsWith(".jsonl"))
          let content = ""
          for (const p of files) content += (yield* Effect.promise(() => work.track(() => hub.git.readFile(REPO, "skygit", p)))) ?? ""
          history.push({ message: c.message, paths: c.paths, content })
        }
        return {
          aliceView: yield* alice.handle.view,
          aliceOpen,
          bobOpen: openTo(bobView, "alice"),
          bobSawAlice: bobView.people.some((p) => p.username === "alice"),
          history,
          requests,
          presenceFile: yield* Effect.promise(() => work.track(() => hub.git.readFile(REPO, "skygit", PRESENCE_PATH)))
        }
      })
    ),
    { work }
  )
}

describe("the lobby: a reader in a file-form repository (hub over HTTP, read-only:alice)", () => {
  it("the reader knocks in the Discussion, connects to a pusher, and the pusher commits the reader's message", async () => {
    const o = await run({ minutes: 12 })
    expect(o.aliceOpen).toBe(true)
    expect(o.bobOpen).toBe(true)
    // No "ask a maintainer": the reader is findable.
    expect(o.aliceView.presenceProblem).toBeUndefined()
    // The message is in the history of SkyGit's branch, in a commit the pusher made.
    const withMessage = o.history.filter((c) => c.content.includes("a reader speaks"))
    expect(withMessage.length).toBe(1)
    expect(o.requests["bob"]!.some((r) => /^PATCH \/repos\/demo\/chat\/git\/refs\/heads%2Fskygit 200$/.test(r))).toBe(true)
    expect(o.requests["bob"]!.filter((r) => r.endsWith(" mutation"))).toEqual([])
    // The reader never wrote to the repository (refused or not): only GraphQL (the lobby) and reads.
    expect(o.requests["alice"]!.filter((r) => !r.startsWith("GET ") && !r.startsWith("POST /graphql"))).toEqual([])
    // The reader's entry is in presence.json, written by the pusher's refresh once connected (the
    // refresher is a pusher even though alice, the smallest, cannot write the file), and bob's own stays fresh.
    const entries = (JSON.parse(o.presenceFile ?? "{}") as { entries?: Array<{ username: string; last_seen: string }> }).entries ?? []
    expect(entries.map((e) => e.username).sort()).toEqual(["alice", "bob"])
  }, 120_000)

  it("works when the pusher was there first (it finds the lobby within a probe period)", async () => {
    // alice comes 20 s after bob's first look; bob looks again one probe period later.
    const o = await run({ minutes: Math.ceil(LOBBY_PROBE_MS / 60_000) + 6, bobFirst: true })
    expect(o.aliceOpen).toBe(true)
    expect(o.history.some((c) => c.content.includes("a reader speaks"))).toBe(true)
    // bob looked for the lobby and read it, but never wrote to it (alice started it): no GraphQL mutation of his.
    expect(o.requests["bob"]!.filter((r) => r.startsWith("POST /graphql")).length).toBeGreaterThan(0)
    expect(o.requests["bob"]!.filter((r) => r.endsWith(" mutation"))).toEqual([])
    expect(o.requests["alice"]!.filter((r) => r.endsWith(" mutation")).length).toBeGreaterThan(0)
  }, 120_000)

  it("with Discussions disabled the reader is told plainly what a maintainer must do; nothing is written", async () => {
    const o = await run({ repo: { name: REPO, discussions: false }, minutes: 5 })
    expect(o.aliceOpen).toBe(false)
    expect(o.aliceView.presenceProblem).toBe(lobbyUnusable(OWNER, NAME, "disabled"))
    expect(o.requests["alice"]!.filter((r) => !r.startsWith("GET ") && !r.startsWith("POST /graphql"))).toEqual([])
  }, 120_000)

  it("with no category the reader may post in, the reader is told a maintainer must create the Discussion, with its exact title", async () => {
    const o = await run({ faults: ["announcements-only"], minutes: 5 })
    expect(o.aliceOpen).toBe(false)
    expect(o.aliceView.presenceProblem).toBe(lobbyUnusable(OWNER, NAME, "no-category"))
    expect(o.aliceView.presenceProblem).toContain(`titled exactly "SkyGit Presence: ${REPO}"`)
  }, 120_000)

  it("a lobby entry whose username is not its comment's author is skipped, with a reason", async () => {
    const outcome = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const served = yield* servedHub({ faults: ["read-only:mallory"] })
          const mallory = yield* makeGitHubLobbyPresence(yield* served.client("mallory"))
          const bob = yield* makeGitHubLobbyPresence(yield* served.client("bob"))
          // mallory (a reader) writes her comment claiming alice's session as well as her own.
          yield* mallory.publish({ ...noChange, upsert: [entry(peer("mallory"), Date.now()), entry(peer("alice"), Date.now())] })
          return yield* bob.read
        })
      )
    )
    expect(outcome.document.entries.map((e) => e.username)).toEqual(["mallory"])
    expect(outcome.skipped.map((s) => s.detail)).toContain("comment by mallory claims the entry of alice")
  }, 60_000)
})
