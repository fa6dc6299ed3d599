import { describe, expect, it } from "vitest"
import { githubLimits } from "../../src/domain/budget.js"
import { b64, serve, statusOf } from "./harness.js"

const repo = { owner: "demo", repo: "chat" }

describe("ETag and conditional requests", () => {
  it("answers 304 to a matching If-None-Match without charging the primary budget", async () => {
    const s = await serve()
    try {
      const alice = s.client("alice")
      const first = await alice.repos.getContent({ ...repo, path: "README.md" })
      const etag = first.headers.etag!
      expect(first.headers["x-ratelimit-used"]).toBe("1")
      expect(first.headers["cache-control"]).toBe("private, max-age=60, s-maxage=60")
      const again = await statusOf(alice.repos.getContent({ ...repo, path: "README.md", headers: { "if-none-match": etag } }))
      expect(again.status).toBe(304)
      expect(again.headers["x-ratelimit-used"]).toBe("1")
      expect(s.hub.stats().users["alice"]).toMatchObject({ requests: 1, notModified: 1 })
      // A change makes the old ETag stale: the next conditional read is a full, counted 200.
      await alice.repos.createOrUpdateFileContents({ ...repo, path: "README.md", message: "m", content: b64("new"), sha: (first.data as { sha: string }).sha })
      const changed = await alice.repos.getContent({ ...repo, path: "README.md", headers: { "if-none-match": etag } })
      expect(changed.status).toBe(200)
      expect(changed.headers.etag).not.toBe(etag)
    } finally {
      await s.close()
    }
  })
})

describe("budgets", () => {
  it("primary exhaustion answers 403 with x-ratelimit-remaining 0; /rate_limit stays free", async () => {
    let now = Date.UTC(2026, 0, 1)
    const s = await serve({ limits: { ...githubLimits, primaryPerHour: 3 }, now: () => now })
    try {
      const alice = s.client("alice")
      for (let i = 0; i < 3; i++) await alice.users.getAuthenticated()
      const refused = await statusOf(alice.users.getAuthenticated())
      expect(refused.status).toBe(403)
      expect(refused.headers["x-ratelimit-remaining"]).toBe("0")
      expect(refused.message).toContain("API rate limit exceeded")
      const rate = await alice.rateLimit.get()
      expect(rate.data.resources.core.remaining).toBe(0)
      // Bob's budget is his own.
      expect((await s.client("bob").users.getAuthenticated()).status).toBe(200)
      now += 3_600_000
      expect((await alice.users.getAuthenticated()).headers["x-ratelimit-remaining"]).toBe("2")
      expect(s.hub.stats().users["alice"]!.rateLimited).toBe(1)
    } finally {
      await s.close()
    }
  })

  it("two tokens of one user share one budget", async () => {
    const s = await serve({ limits: { ...githubLimits, primaryPerHour: 2 } })
    try {
      const second = s.hub.issueToken("alice")
      await s.client("alice").users.getAuthenticated()
      await s.client("alice", second).users.getAuthenticated()
      expect((await statusOf(s.client("alice", second).users.getAuthenticated())).status).toBe(403)
    } finally {
      await s.close()
    }
  })

  it("the 81st content-creating request in a minute is a secondary limit with retry-after", async () => {
    let now = Date.UTC(2026, 0, 1)
    const s = await serve({ now: () => now })
    try {
      const alice = s.client("alice")
      let sha: string | undefined
      for (let i = 0; i < githubLimits.contentPerMinute; i++) {
        const r = await alice.repos.createOrUpdateFileContents({ ...repo, path: "p.json", message: `w${i}`, content: b64(String(i)), ...(sha === undefined ? {} : { sha }) })
        sha = r.data.content!.sha
        now += 100
      }
      const refused = await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path: "p.json", message: "x", content: b64("x"), sha: sha! }))
      expect(refused.status).toBe(403)
      expect(refused.message).toContain("secondary rate limit")
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0)
      // Reads still work: the content window limits writes only.
      expect((await alice.repos.get(repo)).status).toBe(200)
      now += 60_000
      expect((await alice.repos.createOrUpdateFileContents({ ...repo, path: "p.json", message: "y", content: b64("y"), sha: sha! })).status).toBe(200)
      expect(s.hub.stats().users["alice"]).toMatchObject({ writes: githubLimits.contentPerMinute + 1, rateLimited: 1 })
    } finally {
      await s.close()
    }
  })
})
