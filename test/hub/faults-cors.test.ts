import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { preflightAllows } from "../../src/hub/cors.js"
import { b64, serve, statusOf, type Served } from "./harness.js"

let s: Served
beforeAll(async () => {
  s = await serve()
})
afterAll(() => s.close())

const repo = { owner: "demo", repo: "chat" }

describe("CORS", () => {
  it("answers preflights like api.github.com: allowed headers, no X-GitHub-Api-Version", async () => {
    const res = await fetch(`${s.url}/repos/demo/chat/contents/x`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "PUT", "access-control-request-headers": "authorization, if-none-match, x-github-api-version" }
    })
    expect(res.status).toBe(204)
    expect(res.headers.get("access-control-allow-origin")).toBe("*")
    const allowed = res.headers.get("access-control-allow-headers")!.split(",").map((h) => h.trim().toLowerCase())
    for (const h of ["authorization", "content-type", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "x-requested-with"]) expect(allowed).toContain(h)
    expect(allowed).not.toContain("x-github-api-version")
    expect(preflightAllows(["Authorization", "If-None-Match"])).toBe(true)
    expect(preflightAllows(["Authorization", "X-GitHub-Api-Version"])).toBe(false)
  })

  it("exposes ETag, Link and x-ratelimit-* on every response", async () => {
    const { headers } = await s.client("alice").repos.get(repo)
    const exposed = String(headers["access-control-expose-headers"]).toLowerCase()
    for (const h of ["etag", "link", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"]) expect(exposed).toContain(h)
  })

  it("refuses a browser request carrying a header the preflight would refuse", async () => {
    const res = await fetch(`${s.url}/user`, { headers: { origin: "http://localhost:5173", authorization: `token ${s.hub.tokenOf("alice")}`, "x-github-api-version": "2022-11-28" } })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toContain("x-github-api-version")
  })
})

describe("fault injection", () => {
  it("serves scripted statuses in order, matched by method and path, then behaves normally", async () => {
    s.hub.faults.inject({ method: "PUT", path: /\/contents\//, times: 2, respond: { status: 409 } })
    s.hub.faults.inject({ method: "PUT", path: /\/contents\//, respond: { status: 500 } })
    const alice = s.client("alice")
    const put = () => alice.repos.createOrUpdateFileContents({ ...repo, path: "f.txt", message: "m", content: b64("x") })
    expect((await statusOf(alice.repos.get(repo).then(() => put()))).status).toBe(409)
    expect((await statusOf(put())).status).toBe(409)
    expect((await statusOf(put())).status).toBe(500)
    expect((await put()).status).toBe(201)
    expect(s.hub.stats().users["alice"]!.conflicts).toBe(2)
  })

  it("injects secondary limits with retry-after and GraphQL faults", async () => {
    s.hub.faults.inject({ method: "GET", path: /^\/user$/, respond: { status: 403, headers: { "retry-after": "30" } } })
    const refused = await statusOf(s.client("bob").users.getAuthenticated())
    expect(refused.status).toBe(403)
    expect(refused.headers["retry-after"]).toBe("30")
    expect(refused.message).toContain("secondary rate limit")
    s.hub.faults.inject({ method: "graphql", respond: { status: 502 } })
    expect((await statusOf(s.client("bob").graphql("{ viewer { login } }"))).status).toBe(502)
    expect(((await s.client("bob").graphql("{ viewer { login } }")) as { viewer: { login: string } }).viewer.login).toBe("bob")
  })

  it("delays a response without blocking other requests", async () => {
    s.hub.faults.inject({ path: /^\/repos\/demo\/chat$/, respond: { delayMs: 500 } })
    const order: Array<string> = []
    const slow = s.client("carol").repos.get(repo).then(() => order.push("slow"))
    const fast = s.client("carol").users.getAuthenticated().then(() => order.push("fast"))
    await Promise.all([slow, fast])
    expect(order).toEqual(["fast", "slow"])
  })

  it("commits corrupt files that the API then serves", async () => {
    await s.hub.faults.corruptFile("demo/chat", "main", ".messages/presence.json", '{"peers": [')
    const { data } = await s.client("alice").repos.getContent({ ...repo, path: ".messages/presence.json" })
    if (Array.isArray(data) || data.type !== "file") throw new Error("expected a file")
    expect(Buffer.from(data.content, "base64").toString()).toBe('{"peers": [')
    const huge = "y".repeat(5 * 1024 * 1024)
    await s.hub.faults.corruptFile("demo/chat", "main", ".messages/presence.json", huge)
    const big = await s.client("alice").repos.getContent({ ...repo, path: ".messages/presence.json" })
    expect((big.data as { encoding: string }).encoding).toBe("none")
    s.hub.faults.inject({ respond: { status: 500 } })
    s.hub.faults.clear()
    expect((await s.client("alice").users.getAuthenticated()).status).toBe(200)
  })
})
