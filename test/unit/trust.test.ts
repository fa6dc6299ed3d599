/** Issue 13: which sessions a peer believes and which may hold a role; the Node terminal's printable text. */
import { describe, expect, it } from "vitest"
import { believesListed, mayHoldRole } from "../../src/domain/trust.js"
import { applyChange, noChange } from "../../src/domain/presence-doc.js"
import { printable } from "../../src/node/terminal.js"
import { entry, peer } from "../support/fixtures.js"

describe("trust", () => {
  it("a listed session is believed only when seen in presence or heard from", () => {
    expect(believesListed({ answeredAt: undefined, inPresence: false })).toBe(false)
    expect(believesListed({ answeredAt: undefined, inPresence: true })).toBe(true)
    expect(believesListed({ answeredAt: 7, inPresence: false })).toBe(true)
  })

  it("a session that never answered holds a role only within its grace", () => {
    const silent = { answeredAt: undefined, firstSeenAt: 1_000, inPresence: true }
    expect(mayHoldRole(silent, 1_000 + 44_999, 45_000)).toBe(true)
    expect(mayHoldRole(silent, 1_000 + 45_000, 45_000)).toBe(false)
    expect(mayHoldRole({ ...silent, answeredAt: 2_000 }, 10_000_000, 45_000)).toBe(true)
    expect(mayHoldRole({ answeredAt: undefined, firstSeenAt: undefined, inPresence: false }, 0, 45_000)).toBe(false)
  })
})

describe("a rewrite of the presence document", () => {
  it("never drops another session's fingerprint (a writer that did not know it)", () => {
    const alice = peer("alice", "a1")
    const doc = { entries: [entry(alice, 1_000, "sha-256 AA:01")], signals: [], calls: [] }
    const next = applyChange(doc, { ...noChange, upsert: [entry(alice, 2_000)] }, 2_000)
    expect(next.entries).toEqual([entry(alice, 2_000, "sha-256 AA:01")])
  })
})

describe("the Node terminal", () => {
  it("prints control characters of others' text as U+FFFD, so nothing forges lines or moves the cursor", () => {
    expect(printable("hi\u001b[2J\u001b]0;pwned\u0007\r[general] <alice> fake\nline\u202e")).toBe(
      "hi\ufffd[2J\ufffd]0;pwned\ufffd\ufffd[general] <alice> fake\ufffdline\ufffd"
    )
    expect(printable("héllo 👍 コミット")).toBe("héllo 👍 コミット")
  })
})
