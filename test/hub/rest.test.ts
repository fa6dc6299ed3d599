import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { b64, serve, statusOf, unb64, type Served } from "./harness.js"

let s: Served
beforeAll(async () => {
  s = await serve()
})
afterAll(() => s.close())

const repo = { owner: "demo", repo: "chat" }

describe("accounts and repositories", () => {
  it("GET /user names the token's owner", async () => {
    const { data } = await s.client("bob").users.getAuthenticated()
    expect(data.login).toBe("bob")
  })

  it("GET /repos reports push permission, default branch and discussions", async () => {
    const { data } = await s.client("alice").repos.get(repo)
    expect(data.permissions?.push).toBe(true)
    expect(data.default_branch).toBe("main")
    expect(data.has_discussions).toBe(true)
    expect(data.node_id).toMatch(/^R_/)
  })

  it("GET /user/repos paginates with a Link header", async () => {
    const hub = await serve({ repos: ["demo/a", "demo/b", "demo/c"] })
    try {
      const first = await hub.client("alice").repos.listForAuthenticatedUser({ per_page: 2 })
      expect(first.data.map((r) => r.full_name)).toEqual(["demo/a", "demo/b"])
      expect(first.headers.link).toContain('rel="next"')
      const all = await hub.client("alice").paginate(hub.client("alice").repos.listForAuthenticatedUser, { per_page: 2 })
      expect(all.map((r) => r.full_name)).toEqual(["demo/a", "demo/b", "demo/c"])
    } finally {
      await hub.close()
    }
  })

  it("an unknown token is 401 Bad credentials; an unknown repository is 404", async () => {
    const bad = await statusOf(s.client("alice", "ghp_nope").users.getAuthenticated())
    expect(bad.status).toBe(401)
    expect(bad.message).toContain("Bad credentials")
    expect((await statusOf(s.client("alice").repos.get({ owner: "demo", repo: "missing" }))).status).toBe(404)
  })

  it("a repository limited to collaborators is 404 to others", async () => {
    const hub = await serve({ repos: [{ name: "alice/private", collaborators: ["bob"] }] })
    try {
      expect((await hub.client("bob").repos.get({ owner: "alice", repo: "private" })).status).toBe(200)
      expect((await statusOf(hub.client("carol").repos.get({ owner: "alice", repo: "private" }))).status).toBe(404)
    } finally {
      await hub.close()
    }
  })
})

describe("contents API", () => {
  it("creates, reads and updates a file with compare-and-swap on the blob sha", async () => {
    const alice = s.client("alice")
    const path = ".messages/presence.json"
    const created = await alice.repos.createOrUpdateFileContents({ ...repo, path, message: "presence [skip ci]", content: b64('{"peers":["ü 😀"]}') })
    expect(created.status).toBe(201)
    const read = await alice.repos.getContent({ ...repo, path })
    if (Array.isArray(read.data) || read.data.type !== "file") throw new Error("expected a file")
    expect(unb64(read.data.content)).toBe('{"peers":["ü 😀"]}')
    expect(read.data.sha).toBe(created.data.content?.sha)
    const updated = await alice.repos.createOrUpdateFileContents({ ...repo, path, message: "again", content: b64("{}"), sha: read.data.sha })
    expect(updated.status).toBe(200)
    // The old sha is stale now: 409. No sha at all on an existing file: 422.
    expect((await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path, message: "x", content: b64("1"), sha: read.data.sha }))).status).toBe(409)
    expect((await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path, message: "x", content: b64("1") }))).status).toBe(422)
    expect(await s.hub.git.readFile("demo/chat", "main", path)).toBe("{}")
    expect(s.hub.stats().users["alice"]!.conflicts).toBeGreaterThanOrEqual(2)
  })

  it("writes to another branch and lists directories", async () => {
    const alice = s.client("alice")
    const main = await alice.git.getRef({ ...repo, ref: "heads/main" })
    await alice.git.createRef({ ...repo, ref: "refs/heads/skygit", sha: main.data.object.sha })
    await alice.repos.createOrUpdateFileContents({ ...repo, path: "dir/a.txt", message: "a", content: b64("A"), branch: "skygit" })
    await alice.repos.createOrUpdateFileContents({ ...repo, path: "dir/sub/b.txt", message: "b", content: b64("B"), branch: "skygit" })
    const listing = await alice.repos.getContent({ ...repo, path: "dir", ref: "skygit" })
    if (!Array.isArray(listing.data)) throw new Error("expected a directory")
    expect(listing.data.map((e) => [e.name, e.type])).toEqual([["a.txt", "file"], ["sub", "dir"]])
    expect((await statusOf(alice.repos.getContent({ ...repo, path: "dir/a.txt" }))).status).toBe(404)
    const object = await alice.repos.getContent({ ...repo, path: "dir", ref: "skygit", mediaType: { format: "object" } })
    expect((object.data as unknown as { type: string; entries: Array<{ name: string }> }).entries.map((e) => e.name)).toEqual(["a.txt", "sub"])
    expect((await s.hub.git.log("demo/chat", "skygit")).slice(0, 2).map((c) => c.paths)).toEqual([["dir/sub/b.txt"], ["dir/a.txt"]])
    expect(s.hub.stats().repos["demo/chat"]!.commits["skygit"]).toBe(2)
  })

  it("answers files over 1 MB without content, and in full with the raw media type", async () => {
    const alice = s.client("alice")
    const big = "x".repeat(1024 * 1024 + 10)
    await alice.repos.createOrUpdateFileContents({ ...repo, path: "big.txt", message: "big", content: b64(big) })
    const json = await alice.repos.getContent({ ...repo, path: "big.txt" })
    if (Array.isArray(json.data) || json.data.type !== "file") throw new Error("expected a file")
    expect(json.data.content).toBe("")
    expect(json.data.encoding).toBe("none")
    expect(json.data.size).toBe(big.length)
    for (const format of ["raw", "raw+json"]) {
      const raw = await alice.repos.getContent({ ...repo, path: "big.txt", mediaType: { format } })
      expect(raw.data as unknown as string).toBe(big)
    }
  })

  it("rejects malformed JSON with 400 and missing fields with 422", async () => {
    const token = s.hub.tokenOf("alice")
    const res = await fetch(`${s.url}/repos/demo/chat/contents/x.txt`, { method: "PUT", headers: { authorization: `token ${token}` }, body: "{nope" })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toBe("Problems parsing JSON")
    const missing = await fetch(`${s.url}/repos/demo/chat/contents/x.txt`, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: "{}" })
    expect(missing.status).toBe(422)
    const alice = s.client("alice")
    for (const path of ["../escape.txt", "a/.git/config", "nul\u0000byte"]) {
      expect((await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path, message: "m", content: b64("x") }))).status).toBe(422)
    }
    const tree = await statusOf(alice.git.createTree({ ...repo, tree: [{ path: "a/../b", mode: "100644", type: "blob", content: "x" }] }))
    expect(tree.status).toBe(422)
  })
})

describe("git database API", () => {
  it("commits several files atomically and refuses a non-fast-forward ref update", async () => {
    const bob = s.client("bob")
    const head = (await bob.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha
    const base = (await bob.git.getCommit({ ...repo, commit_sha: head })).data.tree.sha
    const blob = await bob.git.createBlob({ ...repo, content: b64("binary-ish ✓"), encoding: "base64" })
    const tree = await bob.git.createTree({
      ...repo,
      base_tree: base,
      tree: [
        { path: "log/one.jsonl", mode: "100644", type: "blob", sha: blob.data.sha },
        { path: "log/two.jsonl", mode: "100644", type: "blob", content: "two\n" },
        { path: "README.md", mode: "100644", type: "blob", sha: null }
      ]
    })
    const commit = await bob.git.createCommit({ ...repo, message: "batch [skip ci]", tree: tree.data.sha, parents: [head] })
    expect(commit.data.parents.map((p) => p.sha)).toEqual([head])
    await bob.git.updateRef({ ...repo, ref: "heads/main", sha: commit.data.sha, force: false })
    const recursive = await bob.git.getTree({ ...repo, tree_sha: commit.data.sha, recursive: "1" })
    const paths = recursive.data.tree.map((e) => e.path)
    expect(paths).toContain("log/one.jsonl")
    expect(paths).toContain("log")
    expect(paths).not.toContain("README.md")
    const read = await bob.git.getBlob({ ...repo, file_sha: blob.data.sha })
    expect(unb64(read.data.content)).toBe("binary-ish ✓")

    // A sibling commit on the old head is not a fast-forward of the new head.
    const sibling = await bob.git.createCommit({ ...repo, message: "late", tree: base, parents: [head] })
    const refused = await statusOf(bob.git.updateRef({ ...repo, ref: "heads/main", sha: sibling.data.sha, force: false }))
    expect(refused.status).toBe(422)
    expect(refused.message).toContain("Update is not a fast forward")
    expect((await bob.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha).toBe(commit.data.sha)
    // Creating an existing ref is 422 too.
    expect((await statusOf(bob.git.createRef({ ...repo, ref: "refs/heads/main", sha: head }))).status).toBe(422)
    expect((await statusOf(bob.git.getRef({ ...repo, ref: "heads/nope" }))).status).toBe(404)
  })

  it("lets exactly one of two racing writers move the branch head", async () => {
    const clients = [s.client("alice"), s.client("bob")]
    const head = (await clients[0]!.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha
    const tree = (await clients[0]!.git.getCommit({ ...repo, commit_sha: head })).data.tree.sha
    const commits = await Promise.all(clients.map((c, i) => c.git.createCommit({ ...repo, message: `racer ${i}`, tree, parents: [head] })))
    const results = await Promise.allSettled(clients.map((c, i) => c.git.updateRef({ ...repo, ref: "heads/main", sha: commits[i]!.data.sha, force: false })))
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"])
    const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult
    expect((loser.reason as { status: number }).status).toBe(422)
  })

  it("utf-8 blobs hash like git", async () => {
    const { data } = await s.client("carol").git.createBlob({ ...repo, content: "hello\n", encoding: "utf-8" })
    // `printf 'hello\n' | git hash-object --stdin`
    expect(data.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a")
  })

  it("compares branches and reads a branch", async () => {
    const carol = s.client("carol")
    const head = (await carol.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha
    await carol.git.createRef({ ...repo, ref: "refs/heads/feature", sha: head })
    await carol.repos.createOrUpdateFileContents({ ...repo, path: "feature.txt", message: "feature", content: b64("f"), branch: "feature" })
    const cmp = await carol.repos.compareCommitsWithBasehead({ ...repo, basehead: "main...feature" })
    expect(cmp.data).toMatchObject({ status: "ahead", ahead_by: 1, behind_by: 0 })
    expect(cmp.data.files?.map((f) => [f.filename, f.status])).toEqual([["feature.txt", "added"]])
    expect(cmp.data.commits[0]!.author?.login).toBe("carol")
    const branch = await carol.repos.getBranch({ ...repo, branch: "feature" })
    expect(branch.data.commit.commit.message).toBe("feature")
    expect((await statusOf(carol.repos.getBranch({ ...repo, branch: "nope" }))).status).toBe(404)
  })
})
