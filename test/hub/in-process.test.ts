import { Octokit } from "@octokit/rest"
import { describe, expect, it } from "vitest"
import { createHub } from "../../src/hub/index.js"

describe("in-process use", () => {
  it("serves Octokit through hub.handle as its fetch, driven by an injected clock", async () => {
    let now = Date.UTC(2030, 0, 1)
    const hub = await createHub({ users: ["ann"], repos: ["ann/notes"], now: () => now, defaultBranch: "trunk" })
    const octokit = new Octokit({
      auth: hub.tokenOf("ann"),
      baseUrl: "http://hub.invalid",
      request: { fetch: (url: string | URL | Request, init?: RequestInit) => hub.handle(new Request(url, init)) }
    })
    const repo = await octokit.repos.get({ owner: "ann", repo: "notes" })
    expect(repo.data.default_branch).toBe("trunk")
    expect(Number(repo.headers["x-ratelimit-reset"])).toBe((now + 3_600_000) / 1000)
    now += 5_000
    await octokit.repos.createOrUpdateFileContents({ owner: "ann", repo: "notes", path: "n.md", message: "note", content: Buffer.from("hi").toString("base64") })
    const log = await hub.git.log("ann/notes", "trunk")
    expect(log.map((c) => [c.message, c.paths])).toEqual([["note", ["n.md"]], ["Initial commit", ["README.md"]]])
    const commit = await octokit.git.getCommit({ owner: "ann", repo: "notes", commit_sha: log[0]!.sha })
    expect(commit.data.author.date).toBe("2030-01-01T00:00:05Z")
    expect(hub.stats()).toEqual({
      users: { ann: { requests: 3, notModified: 0, writes: 1, conflicts: 0, rateLimited: 0 } },
      repos: { "ann/notes": { commits: { trunk: 1 } } }
    })
  })
})
