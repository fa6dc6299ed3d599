/**
 * ConversationRepo on the in-memory GitHub: one commit per flush on the SkyGit
 * branch, compare-and-swap on the head, files laid out by the domain. Requests
 * are counted as the git database API would make them (a blob per file, a tree,
 * a commit, then the ref update that is the content-creating write).
 */
import { Array as Arr, Effect, Either, Option } from "effect"
import { committedSince, historyKey, isDayFolder, isHistoryFileName, layoutBatch, MESSAGES_ROOT, pageKeys, parseFile, type FileWrite } from "../../domain/commit-layout.js"
import { keepaliveExitBudget } from "../../domain/exit-plan.js"
import { parseConversationId } from "../../domain/conversation.js"
import { MessageOrder, type ConversationId, type Message } from "../../domain/message.js"
import {
  RepoConflict,
  RepoRefused,
  RepoUnavailable,
  type CommitBatch,
  type CommitResult,
  type ConversationRepoService,
  type ExitWriteOutcome,
  type HistoryCursor,
  type HistoryPage,
  PAGE_FILES,
  type RepoCommitError,
  type RepoReadError
} from "../../ports/ConversationRepo.js"
import { MemoryGitHub, type WorldFailure } from "./github-world.js"

const toRepoError = (f: WorldFailure): RepoReadError =>
  f._tag === "RateLimited" ? f : new RepoUnavailable({ detail: f.detail, cause: f })

/** The branch name the memory GitHub stands for (it has one branch). */
const MEMORY_BRANCH = "skygit"

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
      if (!world.canPush(user)) {
        // GitHub refuses the first write of a user without push access (404 to a classic token).
        yield* world.request(user, "read", () => undefined).pipe(Effect.mapError(toRepoError))
        return yield* Effect.fail(new RepoRefused({ reason: "permission", detail: `${user} cannot push to this repository: someone with write access must save history.` }))
      }
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

  // The same budget as the GitHub adapter's keepalive PUTs, so plans match across adapters.
  const exitBudget = keepaliveExitBudget(MEMORY_BRANCH)

  // Each file is one content-creating write of a new path, without compare-and-swap (a
  // contents API PUT). Here the writes are done when the outer effect completes.
  const writeOnExit = (files: ReadonlyArray<FileWrite>) =>
    Effect.map(
      Effect.forEach(files, (f) =>
        world
          .request(user, "write", (now): ExitWriteOutcome => {
            // GitHub answers 404 for a branch that does not exist yet (nothing was ever written).
            if (world.head === null && world.presenceFile === undefined) return { _tag: "Refused", path: f.path, detail: "branch skygit not found (404)" }
            if (world.files.has(f.path)) return { _tag: "Refused", path: f.path, detail: `${f.path} exists already (422)` }
            return { _tag: "Written", path: f.path, head: world.appendCommit(user, now, [f]).sha }
          })
          .pipe(
            Effect.catchAll((e) =>
              Effect.succeed<ExitWriteOutcome>({ _tag: "Refused", path: f.path, detail: e._tag === "RateLimited" ? `${e.limit} rate limit` : e.detail })
            )
          )
      ),
      (outcomes) => Effect.succeed(outcomes)
    )

  // One tree listing (as the git API would list the conversation's folders).
  const conversations = world
    .request(user, "read", () => {
      const ids = new Set<ConversationId>()
      for (const path of world.files.keys()) {
        const parts = path.split("/")
        if (parts.length < 3 || parts[0] !== MESSAGES_ROOT) continue
        Either.map(parseConversationId(parts[1]), (id) => ids.add(id))
      }
      return Array.from(ids).sort()
    })
    .pipe(Effect.mapError(toRepoError))

  // One listing of the conversation's files, then one blob read per file of the page.
  const readPage = (conversation: ConversationId, before: Option.Option<HistoryCursor>): Effect.Effect<HistoryPage, RepoReadError> =>
    Effect.gen(function* () {
      const prefix = `${MESSAGES_ROOT}/${conversation}/`
      const keys = yield* world
        .request(user, "read", () =>
          Array.from(world.files.keys())
            .filter((p) => p.startsWith(prefix))
            .map((p) => p.slice(prefix.length).split("/"))
            .filter((parts) => parts.length === 2 && isDayFolder(parts[0]!) && isHistoryFileName(parts[1]!))
            .map(([day, name]) => historyKey(day!, name!))
        )
        .pipe(Effect.mapError(toRepoError))
      const page = pageKeys(keys, before, PAGE_FILES)
      const messages: Array<Message> = []
      const skipped: Array<string> = []
      for (const key of page.taken) {
        const path = prefix + key
        const content = yield* world.request(user, "read", () => world.files.get(path) ?? "").pipe(Effect.mapError(toRepoError))
        const parsed = parseFile(path, content)
        messages.push(...parsed.messages)
        skipped.push(...parsed.skipped)
      }
      return { messages: Arr.sort(messages, MessageOrder), older: page.more ? Option.fromNullable(page.taken.at(-1)) : Option.none(), skipped }
    })

  const canPush = Effect.sync(() => world.canPush(user))
  return world.permissionsKnown
    ? { head, readSince, conversations, readPage, canPush, commit, exitBudget, writeOnExit }
    : { head, readSince, conversations, readPage, commit, exitBudget, writeOnExit }
}
