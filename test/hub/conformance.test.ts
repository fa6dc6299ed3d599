/**
 * The checker itself: it must catch what GitHub would not answer. (Every other hub test file
 * runs it over all its exchanges in the harness's afterAll.)
 */
import { describe, expect, it } from "vitest"
import { checkGraphqlDocument, checkRestExchange, operationTemplate } from "../../src/hub/conformance.js"
import { b64, conformanceProblems, recorded, serve } from "./harness.js"

describe("REST conformance checker", () => {
  it("finds the operation by method and path, including slashed parameters", () => {
    expect(operationTemplate("GET", "/repos/o/r/contents/.messages%2Fpresence.json")).toBe("/repos/{owner}/{repo}/contents/{path}")
    expect(operationTemplate("GET", "/repos/o/r/contents/a/b/c.json")).toBe("/repos/{owner}/{repo}/contents/{path}")
    expect(operationTemplate("GET", "/repos/o/r/git/ref/heads/main")).toBe("/repos/{owner}/{repo}/git/ref/{ref}")
    expect(operationTemplate("PATCH", "/repos/o/r/git/refs/heads/skygit")).toBe("/repos/{owner}/{repo}/git/refs/{ref}")
  })

  it("reports missing fields, wrong types, undocumented statuses and unknown operations", () => {
    expect(checkRestExchange("POST", "/repos/o/r/git/blobs", 201, { sha: "abc", url: "u" })).toEqual([])
    expect(checkRestExchange("POST", "/repos/o/r/git/blobs", 201, { sha: 1 }).join("\n")).toMatch(/missing required property url[\s\S]*expected string, got integer/)
    expect(checkRestExchange("PUT", "/repos/o/r/contents/x", 418, {})[0]).toContain("status not documented")
    expect(checkRestExchange("GET", "/nope/at/all", 200, {})[0]).toContain("no such operation")
    expect(checkRestExchange("GET", "/user", 403, { message: 42 })[0]).toContain("expected string")
  })

  it("passes a real exchange recorded through the hub", async () => {
    const s = await serve()
    try {
      const before = recorded.length
      await s.client("alice").repos.createOrUpdateFileContents({ owner: "demo", repo: "chat", path: "a/b.json", message: "m", content: b64("{}") })
      await s.client("alice").repos.getContent({ owner: "demo", repo: "chat", path: "a" })
      const mine = recorded.slice(before)
      expect(mine.map((e) => e.status)).toEqual([201, 200])
      expect(conformanceProblems(mine)).toEqual([])
    } finally {
      await s.close()
    }
  })
})

describe("GraphQL conformance checker", () => {
  it("accepts SkyGit's documents and rejects fields GitHub does not have", () => {
    expect(checkGraphqlDocument(`mutation($d: ID!, $b: String!) { addDiscussionComment(input: {discussionId: $d, body: $b}) { comment { id } } }`)).toEqual([])
    expect(checkGraphqlDocument(`{ repository(owner: "o", name: "r") { discussionz { totalCount } } }`)[0]).toContain("discussionz")
    expect(checkGraphqlDocument(`{ viewer { login `)[0]).toContain("Syntax Error")
  })
})
