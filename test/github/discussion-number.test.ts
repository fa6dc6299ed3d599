/**
 * The presence Discussion found by its number, recorded in `.messages/skygit.json` on the
 * `skygit` branch (issue 9): whoever finds or creates it records it, and every later client
 * finds it in one GraphQL request, whatever the number of discussions (hub fault
 * `many-discussions:N`). A stale number falls back to the search by title and is corrected.
 */
import { expect, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { presenceTitle } from "../../src/adapters/github/discussion-locate.js"
import { makeGitHubDiscussionPresence } from "../../src/adapters/github/discussion-presence.js"
import { makeGitHubRepoSettings } from "../../src/adapters/github/repo-settings.js"
import type { Username } from "../../src/domain/identity.js"
import { noChange } from "../../src/domain/presence-doc.js"
import type { Exchange } from "../../src/hub/index.js"
import { entry, peer } from "../support/fixtures.js"
import { NAME, OWNER, servedHub, type ServedHub } from "./hub-fixture.js"

/** What `user` asked the hub from exchange `from` on: "GET path" or "graphql OperationName". */
const asked = (s: ServedHub, user: string, from: number): Array<string> =>
  s.exchanges.slice(from).flatMap((e: Exchange) => {
    if (!(e.requestHeaders["authorization"] ?? "").endsWith(s.hub.tokenOf(user))) return []
    if (e.url.endsWith("/graphql")) return [`graphql ${/(?:query|mutation) (\w+)/.exec(String((e.requestBody as { query?: unknown }).query))?.[1] ?? "?"}`]
    return [`${e.method} ${decodeURIComponent(new URL(e.url).pathname)}`]
  })

const heartbeat = (user: string) => Effect.map(Clock.currentTimeMillis, (now) => ({ ...noChange, upsert: [entry(peer(user), now)] }))

/** Records the Discussion form as the first person to enable SkyGit would (optionally with a number). */
const recordDiscussionForm = (s: ServedHub, discussion?: number) =>
  Effect.gen(function* () {
    const settings = yield* makeGitHubRepoSettings(yield* s.client("alice"))
    yield* settings.write({ v: 1, presence: "discussion", chosenBy: "alice" as Username, chosenAt: 1, ...(discussion === undefined ? {} : { discussion }) }, Option.none())
    return settings
  })

const recordedNumber = (s: ServedHub) =>
  Effect.gen(function* () {
    const settings = yield* makeGitHubRepoSettings(yield* s.client("carol"))
    return Option.getOrUndefined(Option.flatMap(yield* settings.read, (r) => Option.fromNullable(r.settings.discussion)))
  })

for (const count of [150, 1_500]) {
  it.scopedLive(`among ${count} discussions, a client finds the presence Discussion by its recorded number in one GraphQL request`, () =>
    Effect.gen(function* () {
      const s = yield* servedHub({ faults: [`many-discussions:${count}`] })
      yield* recordDiscussionForm(s)
      // The first client finds nothing, creates the Discussion and records its number.
      const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      yield* alice.publish(yield* heartbeat("alice"))
      const number = yield* recordedNumber(s)
      expect(number).toBeGreaterThan(count)
      // A later client: the settings, the Discussion by number, one page of comments. No scan, no search.
      const from = s.exchanges.length
      const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
      const seen = yield* bob.read
      expect(seen.document.entries.map((e) => e.username)).toEqual(["alice"])
      expect(asked(s, "bob", from)).toEqual([
        `GET /repos/${OWNER}/${NAME}/contents/.messages/skygit.json`,
        "graphql SkygitPresenceByNumber",
        "graphql SkygitPresenceComments"
      ])
    })
  )
}

it.scopedLive("a stale recorded number (another discussion) falls back to the search by title, and the record is corrected", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["many-discussions:150"] })
    yield* recordDiscussionForm(s)
    const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    yield* alice.publish(yield* heartbeat("alice"))
    const right = (yield* recordedNumber(s))!
    // Someone records an unrelated discussion's number (a hand edit, a deleted Discussion).
    const settings = yield* makeGitHubRepoSettings(yield* s.client("alice"))
    const current = Option.getOrThrow(yield* settings.read)
    yield* settings.write({ ...current.settings, discussion: 7 }, Option.some(current.version))
    const from = s.exchanges.length
    const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
    expect((yield* bob.read).document.entries.map((e) => e.username)).toEqual(["alice"])
    const bobAsked = asked(s, "bob", from)
    expect(bobAsked).toContain("graphql SkygitPresenceByNumber")
    expect(bobAsked).toContain("graphql SkygitSearchPresence")
    expect(bobAsked).not.toContain("graphql SkygitCreatePresence")
    expect(yield* recordedNumber(s)).toBe(right)
    expect(presenceTitle(OWNER, NAME)).toContain(`${OWNER}/${NAME}`)
  })
)

it.scopedLive("nothing is recorded while the repository records no form (the search by title still finds it)", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["many-discussions:150"] })
    const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    yield* alice.publish(yield* heartbeat("alice"))
    expect(yield* recordedNumber(s)).toBeUndefined()
    const from = s.exchanges.length
    const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
    expect((yield* bob.read).document.entries.map((e) => e.username)).toEqual(["alice"])
    expect(asked(s, "bob", from).filter((a) => a.startsWith("graphql"))).toEqual(["graphql SkygitFindPresence", "graphql SkygitSearchPresence", "graphql SkygitPresenceComments"])
  })
)
