import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { createHub } from "../../src/hub/index.js"
import { b64, serve } from "./harness.js"

const dirs: Array<string> = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "skygit-hub-"))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const git = (cwd: string, ...args: Array<string>) => execFileSync("git", args, { cwd, encoding: "utf8" })

describe("disk mode", () => {
  it("keeps each repository as a bare repo that plain git clones, logs and verifies", async () => {
    const data = tempDir()
    const s = await serve({ dataDir: data })
    try {
      const alice = s.client("alice")
      const repo = { owner: "demo", repo: "chat" }
      const main = await alice.git.getRef({ ...repo, ref: "heads/main" })
      await alice.git.createRef({ ...repo, ref: "refs/heads/skygit", sha: main.data.object.sha })
      await alice.repos.createOrUpdateFileContents({ ...repo, path: ".messages/general/2026-01-01/x.jsonl", message: "flush ✓ [skip ci]", content: b64('{"text":"héllo 😀"}\n'), branch: "skygit" })
      const checkout = join(tempDir(), "clone")
      execFileSync("git", ["clone", "-q", "--branch", "skygit", join(data, "demo", "chat.git"), checkout])
      expect(git(checkout, "log", "--format=%s|%an").trim().split("\n")).toEqual(["flush ✓ [skip ci]|alice", "Initial commit|SkyGit Hub"])
      expect(readFileSync(join(checkout, ".messages/general/2026-01-01/x.jsonl"), "utf8")).toBe('{"text":"héllo 😀"}\n')
      // Shas the hub reported are the shas git computes.
      expect(git(checkout, "rev-parse", "HEAD").trim()).toBe((await alice.git.getRef({ ...repo, ref: "heads/skygit" })).data.object.sha)
      git(join(data, "demo", "chat.git"), "fsck", "--strict")
    } finally {
      await s.close()
    }
  })

  it("reopens an existing data dir with its history and Discussions", async () => {
    const data = tempDir()
    const first = await serve({ dataDir: data })
    const { repository } = await first.client("bob").graphql<{ repository: { id: string; discussionCategories: { nodes: Array<{ id: string }> } } }>(
      `{ repository(owner: "demo", name: "chat") { id discussionCategories(first: 1) { nodes { id } } } }`
    )
    await first.client("bob").graphql(`mutation($r: ID!, $c: ID!) { createDiscussion(input: {repositoryId: $r, categoryId: $c, title: "t", body: "b"}) { discussion { id } } }`, {
      r: repository.id,
      c: repository.discussionCategories.nodes[0]!.id
    })
    await first.client("bob").repos.createOrUpdateFileContents({ owner: "demo", repo: "chat", path: "kept.txt", message: "keep", content: b64("kept") })
    await first.close()
    const again = await createHub({ users: ["alice", "bob"], repos: ["demo/chat"], dataDir: data })
    expect(await again.git.readFile("demo/chat", "main", "kept.txt")).toBe("kept")
    expect((await again.git.log("demo/chat", "main")).map((c) => c.message)).toEqual(["keep", "Initial commit"])
    const res = await again.handle(
      new Request("http://hub.local/graphql", {
        method: "POST",
        headers: { authorization: `token ${again.tokenOf("alice")}` },
        body: JSON.stringify({ query: `{ repository(owner: "demo", name: "chat") { discussions(first: 5) { nodes { title author { login } } } } }` })
      })
    )
    expect(await res.json()).toEqual({ data: { repository: { discussions: { nodes: [{ title: "t", author: { login: "bob" } }] } } } })
  })
})
