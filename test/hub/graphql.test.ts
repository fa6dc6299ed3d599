import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { githubLimits } from "../../src/domain/budget.js"
import { serve, statusOf, type Served } from "./harness.js"

let s: Served
beforeAll(async () => {
  s = await serve({ repos: ["demo/chat", { name: "demo/quiet", discussions: false }, { name: "demo/nocat", categories: [] }] })
})
afterAll(() => s.close())

interface RepoInfo {
  repository: { id: string; hasDiscussionsEnabled: boolean; discussionCategories: { nodes: Array<{ id: string; name: string }> } }
}
const REPO_INFO = `query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { id hasDiscussionsEnabled discussionCategories(first: 10) { nodes { id name } } }
}`

const COMMENTS = `query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussion(number: $number) {
      id number title
      comments(first: 2, after: $after) { nodes { id body author { login } createdAt updatedAt } pageInfo { hasNextPage endCursor } }
    }
  }
}`

describe("GraphQL Discussions", () => {
  it("runs the presence flow: create, comment, edit, page, delete; author.login comes from the token", async () => {
    const alice = s.client("alice").graphql
    const bob = s.client("bob").graphql
    const info = await alice<RepoInfo>(REPO_INFO, { owner: "demo", name: "chat" })
    expect(info.repository.hasDiscussionsEnabled).toBe(true)
    const category = info.repository.discussionCategories.nodes.find((c) => c.name === "General")!
    const created = await alice<{ createDiscussion: { discussion: { id: string; number: number; author: { login: string } } } }>(
      `mutation($r: ID!, $c: ID!) { createDiscussion(input: {repositoryId: $r, categoryId: $c, title: "SkyGit Presence: demo/chat", body: "presence"}) { discussion { id number author { login } } } }`,
      { r: info.repository.id, c: category.id }
    )
    const discussion = created.createDiscussion.discussion
    expect(discussion.author.login).toBe("alice")

    const add = `mutation($d: ID!, $b: String!) { addDiscussionComment(input: {discussionId: $d, body: $b}) { comment { id author { login } } } }`
    type Added = { addDiscussionComment: { comment: { id: string; author: { login: string } } } }
    const a = await alice<Added>(add, { d: discussion.id, b: '{"user":"alice"}' })
    // Bob claims to be alice in the body; the author is still bob.
    const b = await bob<Added>(add, { d: discussion.id, b: '{"user":"alice"}' })
    await bob<Added>(add, { d: discussion.id, b: "third" })
    expect(b.addDiscussionComment.comment.author.login).toBe("bob")

    await bob(`mutation($id: ID!) { updateDiscussionComment(input: {commentId: $id, body: "bob v2"}) { comment { body } } }`, { id: b.addDiscussionComment.comment.id })
    const forbidden = await statusOf(alice(`mutation($id: ID!) { updateDiscussionComment(input: {commentId: $id, body: "forged"}) { comment { body } } }`, { id: b.addDiscussionComment.comment.id }))
    expect(forbidden.message).toContain("permission")

    type Page = { repository: { discussion: { comments: { nodes: Array<{ body: string; author: { login: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } } } }
    const p1 = await bob<Page>(COMMENTS, { owner: "demo", name: "chat", number: discussion.number })
    expect(p1.repository.discussion.comments.nodes.map((c) => [c.author.login, c.body])).toEqual([["alice", '{"user":"alice"}'], ["bob", "bob v2"]])
    expect(p1.repository.discussion.comments.pageInfo.hasNextPage).toBe(true)
    // Deleting an earlier comment must not shift the cursor: the next page is still "third".
    await alice(`mutation($id: ID!) { deleteDiscussionComment(input: {id: $id}) { comment { id } } }`, { id: a.addDiscussionComment.comment.id })
    const p2 = await bob<Page>(COMMENTS, { owner: "demo", name: "chat", number: discussion.number, after: p1.repository.discussion.comments.pageInfo.endCursor })
    expect(p2.repository.discussion.comments.nodes.map((c) => c.body)).toEqual(["third"])
    expect(p2.repository.discussion.comments.pageInfo.hasNextPage).toBe(false)

    const list = await bob<{ repository: { discussions: { nodes: Array<{ title: string; author: { login: string } }> } } }>(
      `{ repository(owner: "demo", name: "chat") { discussions(first: 10) { nodes { id number title author { login } createdAt } pageInfo { hasNextPage endCursor } } } viewer { login } }`
    )
    expect(list.repository.discussions.nodes.map((d) => d.title)).toEqual(["SkyGit Presence: demo/chat"])
    expect(s.hub.stats().users["bob"]!.writes).toBe(3)
  })

  it("reports repositories without Discussions or without categories", async () => {
    const alice = s.client("alice").graphql
    const quiet = await alice<RepoInfo>(REPO_INFO, { owner: "demo", name: "quiet" })
    expect(quiet.repository.hasDiscussionsEnabled).toBe(false)
    expect(quiet.repository.discussionCategories.nodes).toEqual([])
    const nocat = await alice<RepoInfo>(REPO_INFO, { owner: "demo", name: "nocat" })
    expect(nocat.repository.discussionCategories.nodes).toEqual([])
    const missing = await statusOf(alice(REPO_INFO, { owner: "demo", name: "missing" }))
    expect(missing.message).toContain("Could not resolve to a Repository")
  })

  it("rejects documents invalid against GitHub's schema with GitHub-shaped errors", async () => {
    const token = s.hub.tokenOf("alice")
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { authorization: `bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ query: `{ repository(owner: "demo", name: "chat") { discussionz { totalCount } } }` })
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> }
    expect(body.errors[0]!.message).toBe("Field 'discussionz' doesn't exist on type 'Repository'")
    expect(body.errors[0]!.extensions.code).toBe("undefinedField")
    const noPaging = await statusOf(s.client("alice").graphql(`{ repository(owner: "demo", name: "chat") { discussions { totalCount } } }`))
    expect(noPaging.message).toContain("You must provide a `first` or `last` value")
    const tooMany = await statusOf(s.client("alice").graphql(`{ repository(owner: "demo", name: "chat") { discussions(first: 101) { totalCount } } }`))
    expect(tooMany.message).toContain("exceeds the `first` limit of 100 records")
    const anon = await fetch(`${s.url}/graphql`, { method: "POST", body: JSON.stringify({ query: "{ viewer { login } }" }) })
    expect(anon.status).toBe(401)
  })

  it("GraphQL primary exhaustion answers HTTP 200 with a RATE_LIMITED error", async () => {
    const hub = await serve({ limits: { ...githubLimits, primaryPerHour: 1 } })
    try {
      const token = hub.hub.tokenOf("carol")
      const ask = () =>
        fetch(`${hub.url}/graphql`, { method: "POST", headers: { authorization: `token ${token}` }, body: JSON.stringify({ query: "{ viewer { login } }" }) })
      const ok = await ask()
      expect(((await ok.json()) as { data: { viewer: { login: string } } }).data.viewer.login).toBe("carol")
      expect(ok.headers.get("x-ratelimit-resource")).toBe("graphql")
      const limited = await ask()
      expect(limited.status).toBe(200)
      expect(limited.headers.get("x-ratelimit-remaining")).toBe("0")
      expect(((await limited.json()) as { errors: Array<{ type: string }> }).errors[0]!.type).toBe("RATE_LIMITED")
      // The REST budget is separate.
      expect((await hub.client("carol").users.getAuthenticated()).status).toBe(200)
    } finally {
      await hub.close()
    }
  })

  it("charges comment creation to the content window REST writes share, answering 403 with retry-after", async () => {
    const hub = await serve({ limits: { ...githubLimits, contentPerMinute: 2 } })
    try {
      const alice = hub.client("alice")
      const info = await alice.graphql<RepoInfo>(REPO_INFO, { owner: "demo", name: "chat" })
      const created = await alice.graphql<{ createDiscussion: { discussion: { id: string } } }>(
        `mutation($r: ID!, $c: ID!) { createDiscussion(input: {repositoryId: $r, categoryId: $c, title: "t", body: "b"}) { discussion { id } } }`,
        { r: info.repository.id, c: info.repository.discussionCategories.nodes[0]!.id }
      )
      await alice.repos.createOrUpdateFileContents({ owner: "demo", repo: "chat", path: "w.txt", message: "w", content: Buffer.from("w").toString("base64") })
      const refused = await statusOf(
        alice.graphql(`mutation($d: ID!) { addDiscussionComment(input: {discussionId: $d, body: "x"}) { comment { id } } }`, { d: created.createDiscussion.discussion.id })
      )
      expect(refused.status).toBe(403)
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0)
      // Queries are not content-creating and still answer.
      expect((await alice.graphql<{ viewer: { login: string } }>("{ viewer { login } }")).viewer.login).toBe("alice")
    } finally {
      await hub.close()
    }
  })
})
