/** The exit plan: the commit layout, within the keepalive budget, own messages first. */
import { describe, expect, it } from "vitest"
import { encodeBase64Utf8 } from "../../src/adapters/github/base64.js"
import { byteLength, layoutBatch, parseFile } from "../../src/domain/commit-layout.js"
import { contentsPutBody, KEEPALIVE_BUDGET_BYTES, keepaliveExitBudget, MAX_EXIT_FILES, planExitWrites } from "../../src/domain/exit-plan.js"
import { MAX_MESSAGE_TEXT } from "../../src/domain/message.js"
import { message } from "../support/fixtures.js"

const AT = Date.UTC(2026, 11, 2, 10, 0, 0)
const budget = keepaliveExitBudget("skygit")

/** The real body bytes of the PUTs that would write `files`. */
const bodyBytes = (files: ReadonlyArray<{ readonly content: string }>) =>
  files.reduce((n, f) => n + byteLength(contentsPutBody(encodeBase64Utf8(f.content), "skygit")), 0)

describe("planExitWrites", () => {
  it("writes what fits as a flush would lay it out, and its cost is the bodies' real size", () => {
    const ms = [message("a", AT - 3, "héllo 👋"), message("b", AT - 2, "x", "random"), message("c", AT - 1)]
    const plan = planExitWrites(ms, AT, budget)
    expect(plan.left).toEqual([])
    expect(plan.files).toEqual(layoutBatch(ms, AT))
    expect(plan.bytes).toBe(bodyBytes(plan.files))
    for (const f of plan.files) expect(parseFile(f.path, f.content).messages).toEqual(plan.carriedBy.get(f.path))
  })

  it("stays within the keepalive budget and leaves the rest, oldest first going first", () => {
    const ms = Array.from({ length: 30 }, (_, i) => message(`m${String(i).padStart(2, "0")}`, AT - 100 + i, "é".repeat(MAX_MESSAGE_TEXT / 2)))
    const plan = planExitWrites(ms, AT, budget)
    expect(plan.left.length).toBeGreaterThan(0)
    expect(bodyBytes(plan.files)).toBe(plan.bytes)
    expect(plan.bytes).toBeLessThanOrEqual(budget.totalBytes)
    expect(budget.totalBytes).toBeLessThan(KEEPALIVE_BUDGET_BYTES)
    const carried = [...plan.carriedBy.values()].flat().map((m) => m.id)
    expect(carried).toEqual(ms.slice(0, carried.length).map((m) => m.id))
    expect(plan.left.map((m) => m.id)).toEqual(ms.slice(carried.length).map((m) => m.id))
  })

  it("puts first the messages it is told to (those nobody else holds), then the rest", () => {
    const big = "x".repeat(MAX_MESSAGE_TEXT)
    const others = Array.from({ length: 10 }, (_, i) => message(`o${i}`, AT - 100 + i, big, "general", "bob"))
    const mine = Array.from({ length: 3 }, (_, i) => message(`m${i}`, AT - 10 + i, big))
    const plan = planExitWrites([...others, ...mine], AT, budget, (m) => m.author === "alice")
    const carried = new Set([...plan.carriedBy.values()].flat().map((m) => m.id))
    for (const m of mine) expect(carried.has(m.id)).toBe(true)
    expect(plan.left.length).toBeGreaterThan(0)
    expect(plan.left.every((m) => m.author === "bob")).toBe(true)
  })

  it("writes at most MAX_EXIT_FILES conversations; the others wait", () => {
    const ms = Array.from({ length: MAX_EXIT_FILES + 3 }, (_, i) => message(`c${i}`, AT - 50 + i, "hi", `conv-${i}`))
    const plan = planExitWrites(ms, AT, budget)
    expect(plan.files.length).toBe(MAX_EXIT_FILES)
    expect(plan.left.length).toBe(3)
  })

  it("nothing to write is no file", () => {
    expect(planExitWrites([], AT, budget)).toMatchObject({ files: [], left: [], bytes: 0 })
  })
})
