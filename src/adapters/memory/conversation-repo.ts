/**
 * ConversationRepo on the in-memory GitHub: one commit per flush on the SkyGit
 * branch, compare-and-swap on the head, files laid out by the domain. Requests
 * are counted as the git database API would make them (a blob per file, a tree,
 * a commit, then the ref update that is the content-creating write).
 */
import { Array as Arr, Effect, Option } from "effect"
import { committedSince, layoutBatch, parseFile } from "../../domain/commit-layout.js"
import { MessageOrder, type Message } from "../../domain/message.js"
import {
  RepoConflict,
  RepoRateLimited,
  RepoUnavailable,
  type CommitBatch,
  type CommitResult,
  type ConversationRepoService,
  type RepoCommitError,
  type RepoReadError
} from "../../ports/ConversationRepo.js"
import { MemoryGitHub, type WorldFailure } from "./github-world.js"

const toRepoError = (f: WorldFailure): RepoReadError =>
  f._tag === "RateLimited" ? new RepoRateLimited({ limit: f.limit, retryAfterMs: f.retryAfterMs }) : new RepoUnavailable({ detail: f.detail })

/** The conversation repository of `user` on `world`. */
export const makeConversationRepo = (world: MemoryGitHub, user: string): ConversationRepoService => {
  let seenHead: string | null | undefined = undefined

  const head = world
    .request(
      user,
      () => (seenHead !== undefined && seenHead === world.head ? "notModified" : "read"),
      () => {
        seenHead = world.head
        return Option.fromNullable(world.head)
      }
    )
    .pipe(Effect.mapError(toRepoError))

  const readSince = (since: number) =>
    Effect.gen(function* () {
      // One tree listing, then one blob read per file committed since `since`.
      const listing = yield* world
        .request(user, "read", () => ({
          head: world.head,
          paths: Array.from(world.files.keys()).filter((p) => committedSince(p, since)).sort()
        }))
        .pipe(Effect.mapError(toRepoError))
      const messages: Array<Message> = []
      const skipped: Array<string> = []
      for (const path of listing.paths) {
        const content = yield* world.request(user, "read", () => world.files.get(path) ?? "").pipe(Effect.mapError(toRepoError))
        const parsed = parseFile(path, content)
        messages.push(...parsed.messages)
        skipped.push(...parsed.skipped)
      }
      seenHead = listing.head
      return { head: Option.fromNullable(listing.head), messages: Arr.sort(messages, MessageOrder), skipped }
    })

  const commit = (batch: CommitBatch): Effect.Effect<CommitResult, RepoCommitError> =>
    Effect.gen(function* () {
      const files = layoutBatch(batch.messages, batch.at)
      // blobs, tree and commit objects: counted, not content-creating.
      for (let i = 0; i < files.length + 2; i++) {
        yield* world.request(user, "read", () => undefined).pipe(Effect.mapError(toRepoError))
      }
      const landed = yield* world
        .request(user, "write", (now) => {
          const expected = Option.getOrNull(batch.expectedHead)
          if (expected !== world.head || world.takeConflict()) return Option.none()
          return Option.some(world.appendCommit(user, now, files))
        })
        .pipe(Effect.mapError(toRepoError))
      if (Option.isNone(landed)) {
        world.statsOf(user).conflicts += 1
        return yield* Effect.fail(new RepoConflict({ expected: batch.expectedHead, actual: Option.fromNullable(world.head) }))
      }
      seenHead = landed.value.sha
      return { head: landed.value.sha, bytes: MemoryGitHub.commitBytes(landed.value), paths: files.map((f) => f.path) }
    })

  return { head, readSince, commit }
}
