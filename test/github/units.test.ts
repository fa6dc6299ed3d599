/** Pure pieces of the GitHub adapters: UTF-8 base64 and the client's budget gate. */
import { describe, expect, it } from "@effect/vitest"
import { decodeBase64Utf8, encodeBase64Utf8 } from "../../src/adapters/github/base64.js"
import { commentBody, documentText } from "../../src/adapters/github/discussion-presence.js"
import { blockSecondary, clearStreak, emptyGate, observeHeaders, recordWrite, refusal } from "../../src/adapters/github/rate-gate.js"
import { githubLimits, nextWriteAt } from "../../src/domain/budget.js"
import { emptyDocument, encodeDocument } from "../../src/domain/presence-doc.js"

describe("base64 of UTF-8", () => {
  it("round-trips text btoa alone cannot encode, and matches Node's encoding", () => {
    for (const text of ["héllo 👋 wörld", "你好，世界 🚀", "", "\u0000\uFFFF𝄞"]) {
      expect(encodeBase64Utf8(text)).toBe(Buffer.from(text, "utf8").toString("base64"))
      expect(decodeBase64Utf8(encodeBase64Utf8(text))).toBe(text)
    }
  })

  it("handles 5 MB and GitHub's line-wrapped base64", () => {
    const big = "é".repeat(5 * 1024 * 1024)
    expect(decodeBase64Utf8(encodeBase64Utf8(big))).toBe(big)
    const wrapped = (Buffer.from("line wrapped ✓").toString("base64").match(/.{1,4}/g) ?? []).join("\n")
    expect(decodeBase64Utf8(wrapped)).toBe("line wrapped ✓")
  })

  it("refuses bytes that are not UTF-8", () => {
    expect(() => decodeBase64Utf8(Buffer.from([0xff, 0xfe, 0x41]).toString("base64"))).toThrow()
  })
})

describe("budget gate", () => {
  const now = 1_700_000_000_000

  it("trusts a budget GitHub reported empty until its reset", () => {
    const g = observeHeaders(emptyGate(githubLimits), {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": String((now + 60_000) / 1000),
      "x-ratelimit-resource": "core"
    })
    expect(refusal(g, "core", now)).toEqual({ limit: "primary", retryAfterMs: 60_000 })
    expect(refusal(g, "graphql", now)).toBeUndefined()
    expect(refusal(g, "core", now + 60_000)).toBeUndefined()
  })

  it("honours retry-after, else backs off exponentially from a minute", () => {
    const g0 = emptyGate(githubLimits)
    expect(refusal(blockSecondary(g0, 5_000, now, githubLimits), "core", now)).toEqual({ limit: "secondary", retryAfterMs: 5_000 })
    const once = blockSecondary(g0, undefined, now, githubLimits)
    const twice = blockSecondary(once, undefined, now, githubLimits)
    expect(once.blockedUntil - now).toBe(60_000)
    expect(twice.blockedUntil - now).toBe(120_000)
    expect(clearStreak(twice).secondaryStreak).toBe(0)
  })

  it("spaces content-creating requests with the domain model", () => {
    const g = recordWrite(emptyGate(githubLimits), now)
    expect(nextWriteAt(g.content, now, githubLimits)).toBe(now + githubLimits.minWriteSpacingMs)
  })
})

describe("comment bodies", () => {
  it("are fenced JSON and read back bare or fenced", () => {
    const text = encodeDocument(emptyDocument)
    expect(documentText(commentBody(emptyDocument))).toBe(text)
    expect(documentText(text)).toBe(text)
  })
})
