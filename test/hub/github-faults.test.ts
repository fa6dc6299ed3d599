/**
 * Each switchable GitHub behaviour (`--fault NAME[:ARG]`) answers with GitHub's status and
 * message shape, over real HTTP.
 */
import { afterEach, describe, expect, it } from "vitest"
import { parseFault } from "../../src/hub/index.js"
import { b64, serve, statusOf, type Served } from "./harness.js"

const repo = { owner: "demo", repo: "chat" }
let open: Array<Served> = []
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()))
  open = []
})
const hub = async (faults: ReadonlyArray<string>, extra: Parameters<typeof serve>[0] = {}) => {
  const s = await serve({ faults, ...extra })
  open.push(s)
  return s
}
/** A clock the test moves by hand. */
const manualClock = () => {
  let t = Date.UTC(2026, 0, 1)
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

const gql = async (s: Served, user: string, query: string, variables: Record<string, unknown> = {}) => {
  const res = await fetch(`${s.url}/graphql`, {
    method: "POST",
    headers: { authorization: `bearer ${s.hub.tokenOf(user)}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables })
  })
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as { data?: any; errors?: Array<{ type?: string; message: string }> } }
}

const REPO_INFO = `query { repository(owner: "demo", name: "chat") { id discussionCategories(first: 10) { nodes { id name } } } }`
const createDiscussion = (s: Served, user: string, r: string, c: string, title: string) =>
  gql(s, user, `mutation($r: ID!, $c: ID!, $t: String!) { createDiscussion(input: {repositoryId: $r, categoryId: $c, title: $t, body: "b"}) { discussion { id number } } }`, { r, c, t: title })

describe("--fault parsing", () => {
  it("accepts the ten faults and refuses bad ones with a message naming the accepted form", () => {
    expect(parseFault("read-only:bob")).toEqual({ _tag: "read-only", user: "bob" })
    expect(parseFault("stale-reads:2000")).toEqual({ _tag: "stale-reads", ms: 2000 })
    expect(parseFault("graphql-secondary")._tag).toBe("graphql-secondary")
    expect(() => parseFault("stale-reads:soon")).toThrow(/stale-reads:N/)
    expect(() => parseFault("archived:yes")).toThrow(/no argument/)
    expect(() => parseFault("flood")).toThrow(/known: read-only/)
    expect(() => parseFault("read-only")).toThrow(/USER/)
  })
})

describe("GitHub behaviours", () => {
  it("read-only:USER reports push: false and refuses that user's writes with 404, others write", async () => {
    const s = await hub(["read-only:bob"])
    const bob = s.client("bob")
    expect((await bob.repos.get(repo)).data.permissions).toMatchObject({ push: false, pull: true })
    expect((await s.client("alice").repos.get(repo)).data.permissions?.push).toBe(true)
    const put = await statusOf(bob.repos.createOrUpdateFileContents({ ...repo, path: "x.txt", message: "m", content: b64("x") }))
    expect([put.status, put.message]).toEqual([404, expect.stringContaining("Not Found")])
    expect((await statusOf(bob.git.createBlob({ ...repo, content: "x" }))).status).toBe(404)
    expect((await bob.repos.getContent({ ...repo, path: "README.md" })).status).toBe(200)
    expect((await s.client("alice").repos.createOrUpdateFileContents({ ...repo, path: "x.txt", message: "m", content: b64("x") })).status).toBe(201)
    // Reading the repository is enough to take part in its Discussions.
    const info = (await gql(s, "bob", REPO_INFO)).body.data.repository
    expect((await createDiscussion(s, "bob", info.id, info.discussionCategories.nodes[0].id, "t")).body.errors).toBeUndefined()
  })

  it("protected:BRANCH refuses contents PUT with 409 naming the check, ref create/update with 422", async () => {
    const s = await hub(["protected:main", "protected:skygit"])
    const alice = s.client("alice")
    const readme = await alice.repos.getContent({ ...repo, path: "README.md" })
    const put = await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path: "README.md", message: "m", content: b64("y"), sha: (readme.data as { sha: string }).sha }))
    expect(put.status).toBe(409)
    expect(put.message).toMatch(/^Could not update file: Required status check ".+" is expected\./)
    const head = (await alice.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha
    const created = await statusOf(alice.git.createRef({ ...repo, ref: "refs/heads/skygit", sha: head }))
    expect([created.status, created.message]).toEqual([422, expect.stringContaining("Reference update failed")])
    const commit = await alice.git.createCommit({ ...repo, message: "m", tree: (await alice.git.getCommit({ ...repo, commit_sha: head })).data.tree.sha, parents: [head] })
    const moved = await statusOf(alice.git.updateRef({ ...repo, ref: "heads/main", sha: commit.data.sha }))
    expect([moved.status, moved.message]).toEqual([422, expect.stringContaining("Repository rule violations found")])
    // Other branches are not protected.
    expect((await alice.git.createRef({ ...repo, ref: "refs/heads/other", sha: head })).status).toBe(201)
  })

  it("archived reports archived: true and refuses REST and GraphQL writes with GitHub's message", async () => {
    const s = await hub(["archived"])
    const alice = s.client("alice")
    expect((await alice.repos.get(repo)).data.archived).toBe(true)
    const put = await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path: "x.txt", message: "m", content: b64("x") }))
    expect([put.status, put.message]).toEqual([403, expect.stringContaining("Repository was archived so is read-only.")])
    const info = (await gql(s, "alice", REPO_INFO)).body.data.repository
    const made = await createDiscussion(s, "alice", info.id, info.discussionCategories.nodes[0].id, "t")
    expect(made.body.errors?.[0]?.message).toBe("Repository was archived so is read-only.")
  })

  it("empty has no commit: contents 404 'This repository is empty.', git database 409, a first PUT only on the default branch", async () => {
    const s = await hub(["empty"])
    const alice = s.client("alice")
    const read = await statusOf(alice.repos.getContent({ ...repo, path: "README.md" }))
    expect([read.status, read.message]).toEqual([404, expect.stringContaining("This repository is empty.")])
    const ref = await statusOf(alice.git.getRef({ ...repo, ref: "heads/main" }))
    expect([ref.status, ref.message]).toEqual([409, expect.stringContaining("Git Repository is empty.")])
    expect((await statusOf(alice.git.createBlob({ ...repo, content: "x" }))).status).toBe(409)
    expect((await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path: "x", message: "m", content: b64("x"), branch: "skygit" }))).status).toBe(404)
    expect((await alice.repos.createOrUpdateFileContents({ ...repo, path: "x", message: "m", content: b64("x") })).status).toBe(201)
    expect((await alice.git.getRef({ ...repo, ref: "heads/main" })).status).toBe(200)
  })

  it("stale-reads:MS answers some reads right after a write with the old head, and none older than MS", async () => {
    const clock = manualClock()
    const s = await hub(["stale-reads:2000"], { now: clock.now })
    const alice = s.client("alice")
    const before = (await alice.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha
    clock.advance(5_000)
    const readme = (await alice.repos.getContent({ ...repo, path: "README.md" })).data as { sha: string }
    await alice.repos.createOrUpdateFileContents({ ...repo, path: "README.md", message: "m", content: b64("new"), sha: readme.sha })
    const after = (await s.hub.git.log("demo/chat", "main"))[0]!.sha
    const heads = async () => Promise.all(Array.from({ length: 20 }, async () => (await alice.git.getRef({ ...repo, ref: "heads/main" })).data.object.sha))
    clock.advance(500)
    const soon = await heads()
    expect(soon).toContain(before)
    expect(soon).toContain(after)
    clock.advance(1_501)
    expect(new Set(await heads())).toEqual(new Set([after]))
  })

  it("branch-moves refuses a contents PUT with an unchanged file once the branch moved since the writer's read", async () => {
    const s = await hub(["branch-moves"])
    const alice = s.client("alice")
    const bob = s.client("bob")
    const readme = (await alice.repos.getContent({ ...repo, path: "README.md" })).data as { sha: string }
    await bob.repos.createOrUpdateFileContents({ ...repo, path: "other.txt", message: "m", content: b64("b") })
    const head = (await s.hub.git.log("demo/chat", "main"))[0]!.sha
    const put = await statusOf(alice.repos.createOrUpdateFileContents({ ...repo, path: "README.md", message: "m", content: b64("a"), sha: readme.sha }))
    expect(put.status).toBe(409)
    expect(put.message).toMatch(new RegExp(`is at ${head} but expected [0-9a-f]{40}`))
    const again = (await alice.repos.getContent({ ...repo, path: "README.md" })).data as { sha: string }
    expect(again.sha).toBe(readme.sha)
    expect((await alice.repos.createOrUpdateFileContents({ ...repo, path: "README.md", message: "m", content: b64("a"), sha: again.sha })).status).toBe(200)
  })

  it("graphql-secondary:N answers HTTP 200 with a secondary-limit error and retry-after, and keeps refusing until it passes", async () => {
    const clock = manualClock()
    const s = await hub(["graphql-secondary:3"], { now: clock.now })
    const q = `query { viewer { login } }`
    expect((await gql(s, "alice", q)).body.data.viewer.login).toBe("alice")
    expect((await gql(s, "alice", q)).body.errors).toBeUndefined()
    const refused = await gql(s, "alice", q)
    expect(refused.status).toBe(200)
    expect(refused.body.errors?.[0]?.message).toMatch(/secondary rate limit/)
    expect(refused.retryAfter).toBe("60")
    clock.advance(30_000)
    const still = await gql(s, "alice", q)
    expect([still.body.errors?.[0]?.message, still.retryAfter]).toEqual([expect.stringMatching(/secondary rate limit/), "30"])
    clock.advance(30_000)
    expect((await gql(s, "alice", q)).body.data.viewer.login).toBe("alice")
  })

  it("announcements-only leaves no category a non-maintainer may start a discussion in", async () => {
    const s = await hub(["announcements-only", "maintainer-edits:carol"])
    const assignable = `query { repository(owner: "demo", name: "chat") { id discussionCategories(first: 10, filterByAssignable: true) { nodes { id name } } } }`
    expect((await gql(s, "alice", assignable)).body.data.repository.discussionCategories.nodes).toEqual([])
    const all = (await gql(s, "alice", REPO_INFO)).body.data.repository
    expect(all.discussionCategories.nodes.map((c: { name: string }) => c.name)).toEqual(["Announcements"])
    const refused = await createDiscussion(s, "alice", all.id, all.discussionCategories.nodes[0].id, "t")
    expect([refused.body.errors?.[0]?.type, refused.body.errors?.[0]?.message]).toEqual(["FORBIDDEN", expect.stringContaining("CreateDiscussion")])
    expect((await gql(s, "carol", assignable)).body.data.repository.discussionCategories.nodes.length).toBe(1)
  })

  it("many-discussions:N puts N discussions first; a search by title finds a later one in one request", async () => {
    const s = await hub(["many-discussions:250"])
    const info = (await gql(s, "alice", REPO_INFO)).body.data.repository
    const made = (await createDiscussion(s, "alice", info.id, info.discussionCategories.nodes[0].id, "SkyGit Presence: demo/chat")).body.data.createDiscussion.discussion
    expect(made.number).toBe(251)
    const page = (await gql(s, "alice", `query { repository(owner: "demo", name: "chat") { discussions(first: 100, orderBy: {field: CREATED_AT, direction: ASC}) { totalCount nodes { title } } } }`)).body.data
    expect(page.repository.discussions.totalCount).toBe(251)
    expect(page.repository.discussions.nodes.some((n: { title: string }) => n.title.startsWith("SkyGit"))).toBe(false)
    const found = await gql(s, "alice", `query($q: String!) { search(query: $q, type: DISCUSSION, first: 5) { discussionCount nodes { ... on Discussion { number title } } } }`, {
      q: 'repo:demo/chat in:title "SkyGit Presence: demo/chat"'
    })
    expect(found.body.data.search).toEqual({ discussionCount: 1, nodes: [{ number: 251, title: "SkyGit Presence: demo/chat" }] })
  })

  it("maintainer-edits:USER lets USER edit anyone's comment; `editor` and `lastEditedAt` show it", async () => {
    const s = await hub(["maintainer-edits:carol"])
    const info = (await gql(s, "alice", REPO_INFO)).body.data.repository
    const d = (await createDiscussion(s, "alice", info.id, info.discussionCategories.nodes[0].id, "t")).body.data.createDiscussion.discussion
    const c = (await gql(s, "alice", `mutation($d: ID!) { addDiscussionComment(input: {discussionId: $d, body: "mine"}) { comment { id } } }`, { d: d.id })).body.data.addDiscussionComment.comment
    const edit = `mutation($id: ID!, $b: String!) { updateDiscussionComment(input: {commentId: $id, body: $b}) { comment { body } } }`
    expect((await gql(s, "bob", edit, { id: c.id, b: "forged" })).body.errors?.[0]?.type).toBe("FORBIDDEN")
    expect((await gql(s, "carol", edit, { id: c.id, b: "edited" })).body.errors).toBeUndefined()
    const read = await gql(s, "bob", `query($n: Int!) { repository(owner: "demo", name: "chat") { discussion(number: $n) { comments(first: 5) { nodes { body author { login } editor { login } lastEditedAt } } } } }`, { n: d.number })
    const [node] = read.body.data.repository.discussion.comments.nodes
    expect(node).toMatchObject({ body: "edited", author: { login: "alice" }, editor: { login: "carol" } })
    expect(node.lastEditedAt).not.toBeNull()
  })
})
