/**
 * Port errors keep what caused them (never only a flattened string), and a budget refusal
 * is one `RateLimited` from the GitHub client through both ports.
 */
import { writeFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Cause, Option } from "effect"
import { describe, expect, it } from "vitest"
import { GitHubHttpError } from "../../src/adapters/github/errors.js"
import { toPresenceError, toRepoError } from "../../src/adapters/github/port-errors.js"
import { makeFileStore } from "../../src/adapters/storage/file-store.js"
import { RateLimited } from "../../src/ports/errors.js"
import { PresenceUnavailable } from "../../src/ports/Presence.js"
import { RepoUnavailable } from "../../src/ports/ConversationRepo.js"
import { StoreError } from "../../src/ports/LocalStore.js"

describe("port errors", () => {
  it("a GitHub refusal becomes a port error whose cause is the refusal itself", () => {
    const refusal = new GitHubHttpError({ status: 503, message: "Service Unavailable" })
    const presence = toPresenceError(refusal, "reading presence")
    expect(presence).toBeInstanceOf(PresenceUnavailable)
    expect(presence._tag === "PresenceUnavailable" && presence.cause).toBe(refusal)
    expect(presence._tag === "PresenceUnavailable" && presence.detail).toContain("HTTP 503")
    const repo = toRepoError(refusal, "reading history")
    expect(repo).toBeInstanceOf(RepoUnavailable)
    expect(repo._tag === "RepoUnavailable" && repo.cause).toBe(refusal)
  })

  it("a rate limit is the same RateLimited in the client and both ports", () => {
    const limited = new RateLimited({ limit: "secondary", retryAfterMs: 1_000 })
    expect(toPresenceError(limited, "publishing")).toBe(limited)
    expect(toRepoError(limited, "committing")).toBe(limited)
    expect(limited._tag).toBe("RateLimited")
  })

  it("a port error refuses fields of the wrong shape when it is made", () => {
    expect(() => new RateLimited({ limit: "tertiary" as "primary", retryAfterMs: 1 })).toThrow()
  })

  it("a store that cannot open keeps the file system's error as its cause", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skygit-cause-"))
    const notADir = join(dir, "file")
    writeFileSync(notADir, "x")
    const exit = await Effect.runPromiseExit(Effect.scoped(makeFileStore(join(notADir, "store"))))
    expect(Exit.isFailure(exit)).toBe(true)
    const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
    expect(failure).toBeInstanceOf(StoreError)
    expect(failure?.cause).toBeInstanceOf(Error)
    expect(String((failure?.cause as Error).message)).toMatch(/ENOTDIR|not a directory/i)
  })
})
