/** Typing indicators: per conversation, expiring, bounded. */
import { describe, expect, it } from "vitest"
import { MAX_TYPISTS, noteTyping, TYPING_SHOWN_MS, typingDue, typingText, typists, type TypingState } from "../../src/domain/typing.js"

describe("typing", () => {
  it("shows a typist in its conversation only, until the notice expires", () => {
    let s: TypingState = new Map()
    s = noteTyping(s, "release", "alice", 1_000)
    s = noteTyping(s, "general", "bob", 1_500)
    expect(typists(s, "release", "carol", 2_000)).toEqual(["alice"])
    expect(typists(s, "general", "carol", 2_000)).toEqual(["bob"])
    expect(typists(s, "release", "alice", 2_000)).toEqual([])
    expect(typists(s, "release", "carol", 1_000 + TYPING_SHOWN_MS)).toEqual([])
    expect(typingText(["alice", "bob"])).toBe("alice and bob are typing…")
  })
  it("resends at most every few seconds and stays bounded", () => {
    expect(typingDue(undefined, 0)).toBe(true)
    expect(typingDue(1_000, 2_000)).toBe(false)
    expect(typingDue(1_000, 4_000)).toBe(true)
    let s: TypingState = new Map()
    for (let i = 0; i < MAX_TYPISTS * 2; i++) s = noteTyping(s, `c${i % 7}`, `u${i}`, 10)
    expect([...s.values()].reduce((n, u) => n + u.size, 0)).toBe(MAX_TYPISTS)
  })
})
