/**
 * SkyGit's footprint on a repository: nothing on the default branch, `[skip ci]` on every
 * commit it makes, conditional polling, and no header a browser's CORS preflight refuses.
 */
import { expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option } from "effect"
import { makeGitHubConversationRepo } from "../../src/adapters/github/conversation-repo.js"
import { makeGitHubFilePresence } from "../../src/adapters/github/file-presence.js"
import { REFUSED_HEADER } from "../../src/adapters/github/octokit.js"
import { BRANCH_README_PATH } from "../../src/adapters/github/branch.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { entry, message, peer } from "../support/fixtures.js"
import { REPO, servedHub } from "./hub-fixture.js"

const heartbeat = (user: string) => Effect.map(Clock.currentTimeMillis, (now) => ({ ...noChange, upsert: [entry(peer(user), now)] }))
const HUB_COMMITS = /^Initial commit|\(fault injection\)/

it.scopedLive("0 commits on the default branch, [skip ci] on every SkyGit commit, 304s on unchanged polls", () =>
  Effect.gen(function* () {
    const s = yield* servedHub()
    const presence = yield* makeGitHubFilePresence(yield* s.client("alice"))
    const repo = yield* makeGitHubConversationRepo(yield* s.client("bob"))
    let head = yield* repo.head
    for (let i = 0; i < 3; i++) {
      yield* presence.publish(yield* heartbeat("alice"))
      const now = yield* Clock.currentTimeMillis
      head = Option.some((yield* repo.commit({ expectedHead: head, messages: [message(`m${i}`, now, "héllo 👋")], at: now })).head)
    }
    const before = s.hub.stats().users["carol"]!.notModified
    const carol = yield* makeGitHubFilePresence(yield* s.client("carol"))
    yield* carol.read
    const again = yield* carol.read
    expect(again.changed).toBe(false)
    expect(s.hub.stats().users["carol"]!.notModified).toBe(before + 1)

    const main = yield* Effect.promise(() => s.hub.git.log(REPO, "main"))
    expect(main.length).toBe(1)
    expect(s.hub.stats().repos[REPO]!.commits["main"] ?? 0).toBe(0)
    const ours = (yield* Effect.promise(() => s.hub.git.log(REPO, "skygit"))).filter((c) => !HUB_COMMITS.test(c.message))
    // Three presence writes, three flushes, and the orphan branch's first commit.
    expect(ours.length).toBe(7)
    for (const c of ours) expect(c.message).toContain("[skip ci]")
    expect(s.exchanges.filter((e) => REFUSED_HEADER in e.requestHeaders)).toEqual([])
  })
)

it.scopedLive("a SkyGit branch configured as the default branch is refused before any write", () =>
  Effect.gen(function* () {
    const s = yield* servedHub()
    const presence = yield* makeGitHubFilePresence(yield* s.client("alice"), { branch: "main" })
    const repo = yield* makeGitHubConversationRepo(yield* s.client("alice"), { branch: "main" })
    const p = yield* Effect.exit(presence.publish(yield* heartbeat("alice")))
    const now = yield* Clock.currentTimeMillis
    const r = yield* Effect.exit(repo.commit({ expectedHead: Option.none(), messages: [message("m", now)], at: now }))
    expect(Exit.isFailure(p) && JSON.stringify(p)).toContain("default branch")
    expect(Exit.isFailure(r) && JSON.stringify(r)).toContain("RepoUnavailable")
    expect((yield* Effect.promise(() => s.hub.git.log(REPO, "main"))).length).toBe(1)
  })
)

const parentsOf = (s: { url: string; hub: { tokenOf: (u: string) => string } }, sha: string) =>
  Effect.promise(async () => {
    const r = await fetch(`${s.url}/repos/${REPO}/git/commits/${sha}`, { headers: { authorization: `token ${s.hub.tokenOf("alice")}` } })
    return ((await r.json()) as { parents: ReadonlyArray<unknown> }).parents.length
  })

it.scopedLive("skygit starts as an orphan branch holding only .messages/; the default branch is unchanged", () =>
  Effect.gen(function* () {
    const s = yield* servedHub()
    const mainBefore = yield* Effect.promise(() => s.hub.git.log(REPO, "main"))
    const presence = yield* makeGitHubFilePresence(yield* s.client("alice"))
    const repo = yield* makeGitHubConversationRepo(yield* s.client("bob"))
    yield* presence.publish(yield* heartbeat("alice"))
    const now = yield* Clock.currentTimeMillis
    yield* repo.commit({ expectedHead: yield* repo.head, messages: [message("m", now)], at: now })
    expect(yield* Effect.promise(() => s.hub.git.log(REPO, "main"))).toEqual(mainBefore)
    const log = yield* Effect.promise(() => s.hub.git.log(REPO, "skygit"))
    const first = log[log.length - 1]!
    expect(yield* parentsOf(s, first.sha)).toBe(0)
    for (const c of log) {
      expect(c.message).toContain("[skip ci]")
      for (const p of c.paths) expect(p.startsWith(".messages/")).toBe(true)
    }
    expect(yield* Effect.promise(() => s.hub.git.readFile(REPO, "skygit", "README.md"))).toBeUndefined()
    expect(yield* Effect.promise(() => s.hub.git.readFile(REPO, "skygit", BRANCH_README_PATH))).toContain("SkyGit")
  })
)

it.scopedLive("a first flush on a repository without skygit creates it as an orphan too", () =>
  Effect.gen(function* () {
    const s = yield* servedHub()
    const repo = yield* makeGitHubConversationRepo(yield* s.client("bob"))
    const now = yield* Clock.currentTimeMillis
    yield* repo.commit({ expectedHead: Option.none(), messages: [message("m", now)], at: now })
    const log = yield* Effect.promise(() => s.hub.git.log(REPO, "skygit"))
    expect(log.length).toBe(1)
    expect(yield* parentsOf(s, log[0]!.sha)).toBe(0)
    expect(log[0]!.message).toContain("[skip ci]")
  })
)

it.scopedLive("an existing non-orphan skygit branch keeps working", () =>
  Effect.gen(function* () {
    const s = yield* servedHub()
    const main = (yield* Effect.promise(() => s.hub.git.log(REPO, "main")))[0]!.sha
    yield* Effect.promise(() =>
      fetch(`${s.url}/repos/${REPO}/git/refs`, {
        method: "POST",
        headers: { authorization: `token ${s.hub.tokenOf("alice")}`, "content-type": "application/json" },
        body: JSON.stringify({ ref: "refs/heads/skygit", sha: main })
      })
    )
    const presence = yield* makeGitHubFilePresence(yield* s.client("alice"))
    const repo = yield* makeGitHubConversationRepo(yield* s.client("bob"))
    yield* presence.publish(yield* heartbeat("alice"))
    const now = yield* Clock.currentTimeMillis
    const landed = yield* repo.commit({ expectedHead: yield* repo.head, messages: [message("m", now)], at: now })
    const log = yield* Effect.promise(() => s.hub.git.log(REPO, "skygit"))
    expect(log[0]!.sha).toBe(landed.head)
    expect(log[log.length - 1]!.sha).toBe(main)
    expect((yield* repo.readSince(0)).messages.map((m) => m.text)).toEqual(["text m"])
  })
)
