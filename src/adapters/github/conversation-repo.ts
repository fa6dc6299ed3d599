/**
 * ConversationRepo over the git database API on SkyGit's branch: one commit per flush
 * (blobs -> tree on `base_tree` -> commit -> `PATCH` ref with `force: false`), so the ref
 * update is a compare-and-swap on the head. Presence writes move the same branch; a head
 * that moved only by commits outside the conversation folders is not a conflict, and the
 * flush is rebased onto it. `readSince` lists only the day folders that can hold new
 * files and reads only files named as committed since the point.
 */
import { Array as Arr, Effect, Either, Layer, Option, Ref, Schedule } from "effect"
import { byteLength, committedSince, dayMayHold, layoutBatch, MESSAGES_ROOT, parseFile, PRESENCE_PATH, type FileWrite } from "../../domain/commit-layout.js"
import { MessageOrder, type Message } from "../../domain/message.js"
import {
  ConversationRepo,
  RepoConflict,
  type CommitBatch,
  type CommitRef,
  type CommitResult,
  type CommittedSlice,
  type ConversationRepoService,
  type RepoCommitError,
  type RepoReadError
} from "../../ports/ConversationRepo.js"
import { headsRef, makeSkygitBranch, SKIP_CI } from "./branch.js"
import { GitHub, type GitHubClient } from "./client.js"
import type { GitHubFailure, GitHubMisconfigured } from "./errors.js"
import { makeGitTrees, type TreeEntry } from "./git-trees.js"
import { toRepoError } from "./port-errors.js"

/** Times a flush is rebased onto a head moved by presence writes before it reports a conflict. */
export const MAX_REBASES = 6
/** First wait before a rebase; doubles, with jitter. */
export const REBASE_BASE_MS = 50
/** Blob reads in flight at once during `readSince`. */
export const READ_CONCURRENCY = 4
/** Git's mode of a regular file. */
const FILE_MODE = "100644"
const PRESENCE_NAME = PRESENCE_PATH.slice(MESSAGES_ROOT.length + 1)

const rebaseRetry = Schedule.exponential(REBASE_BASE_MS).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(MAX_REBASES - 1)))

/** The commit message of a flush. */
export const flushMessage = (files: ReadonlyArray<FileWrite>, count: number): string =>
  `SkyGit: ${count} message${count === 1 ? "" : "s"} in ${files.length} conversation${files.length === 1 ? "" : "s"} ${SKIP_CI}`

/** The head moved under a flush; internal to the rebase loop. */
class Moved {
  readonly _tag = "Moved"
}

/** Options of the conversation repository adapter. */
export interface ConversationRepoOptions {
  /** SkyGit's branch; default `skygit`. */
  readonly branch?: string
}

/** The conversation repository over `client`. */
export const makeGitHubConversationRepo = (client: GitHubClient, options: ConversationRepoOptions = {}): Effect.Effect<ConversationRepoService> =>
  Effect.gen(function* () {
    const branch = yield* makeSkygitBranch(client, options.branch)
    const trees = makeGitTrees(client)
    const seenRef = yield* Ref.make<{ readonly etag: string | undefined; readonly head: Option.Option<CommitRef> }>({ etag: undefined, head: Option.none() })
    const readErr = (what: string) => (f: GitHubFailure | GitHubMisconfigured) => Effect.fail(toRepoError(f, what))

    // The branch head by a conditional GET: unchanged is a free 304.
    const fetchHead: Effect.Effect<Option.Option<CommitRef>, GitHubFailure> = Effect.gen(function* () {
      const before = yield* Ref.get(seenRef)
      const r = yield* client
        .request("GET /repos/{owner}/{repo}/git/ref/{ref}", { ref: headsRef(branch.name) }, before.etag === undefined ? {} : { etag: before.etag })
        .pipe(Effect.map(Option.some), Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(Option.none())))
      if (Option.isNone(r)) {
        yield* Ref.set(seenRef, { etag: undefined, head: Option.none() })
        return Option.none()
      }
      if (r.value.status === 304) return before.head
      const head = Option.some(String((r.value.data as { object: { sha: string } }).object.sha))
      yield* Ref.set(seenRef, { etag: r.value.headers["etag"], head })
      return head
    })

    const subtree = (entries: ReadonlyArray<TreeEntry>, name: string): Option.Option<TreeEntry> =>
      Arr.findFirst(entries, (e) => e.name === name && e.type === "tree")

    // The conversation folders of a commit (name and tree sha), or none when it has none.
    const conversations = (commit: Option.Option<CommitRef>): Effect.Effect<ReadonlyArray<TreeEntry>, GitHubFailure> =>
      Option.match(commit, {
        onNone: () => Effect.succeed([]),
        onSome: (sha) =>
          Effect.flatMap(trees.list(sha), (root) =>
            Option.match(subtree(root.entries, MESSAGES_ROOT), {
              onNone: () => Effect.succeed([]),
              onSome: (m) => Effect.map(trees.list(m.sha), (t) => t.entries.filter((e) => e.type === "tree" && e.name !== PRESENCE_NAME))
            })
          )
      })

    const sameConversations = (a: ReadonlyArray<TreeEntry>, b: ReadonlyArray<TreeEntry>): boolean => {
      const key = (es: ReadonlyArray<TreeEntry>) => es.map((e) => `${e.name}:${e.sha}`).sort().join("\n")
      return key(a) === key(b)
    }

    const head: Effect.Effect<Option.Option<CommitRef>, RepoReadError> = fetchHead.pipe(Effect.catchAll(readErr("reading the branch head")))

    const readSince = (since: number): Effect.Effect<CommittedSlice, RepoReadError> =>
      Effect.gen(function* () {
        const at = yield* fetchHead
        const skipped: Array<string> = []
        const wanted: Array<{ readonly path: string; readonly sha: string }> = []
        for (const conv of yield* conversations(at)) {
          for (const day of (yield* trees.list(conv.sha)).entries) {
            if (day.type !== "tree" || !dayMayHold(day.name, since)) continue
            for (const file of (yield* trees.list(day.sha)).entries) {
              const path = `${MESSAGES_ROOT}/${conv.name}/${day.name}/${file.name}`
              if (file.type === "blob" && committedSince(path, since)) wanted.push({ path, sha: file.sha })
            }
          }
        }
        const parsed = yield* Effect.forEach(
          wanted,
          (f) =>
            trees.blobText(f.sha).pipe(
              Effect.map((text) => parseFile(f.path, text)),
              // A blob that is not UTF-8 is skipped with its reason; GitHub failures still fail the read.
              Effect.catchIf((e): e is string => typeof e === "string", (reason) => Effect.succeed({ messages: [] as ReadonlyArray<Message>, skipped: [`${f.path}: ${reason}`] }))
            ),
          { concurrency: READ_CONCURRENCY }
        )
        for (const p of parsed) skipped.push(...p.skipped)
        return { head: at, messages: Arr.sort(parsed.flatMap((p) => p.messages), MessageOrder), skipped }
      }).pipe(Effect.catchAll(readErr("reading committed messages")))

    // Each file goes inline in the tree (`content`, UTF-8 in the JSON body): GitHub makes the
    // blob itself, which saves one request per file on every flush.
    const treeEntries = (files: ReadonlyArray<FileWrite>): ReadonlyArray<Record<string, string>> =>
      files.map((f) => ({ path: f.path, mode: FILE_MODE, type: "blob", content: f.content }))

    // One attempt to land the flush on the current head; Moved when the ref moved under it.
    const land = (batch: CommitBatch, blobs: ReadonlyArray<Record<string, string>>, message: string) =>
      Effect.gen(function* () {
        const actual = yield* fetchHead
        const moved = !Option.getEquivalence((a: string, b: string) => a === b)(actual, batch.expectedHead)
        if (moved && !sameConversations(yield* conversations(actual), yield* conversations(batch.expectedHead))) {
          return yield* Effect.fail(new RepoConflict({ expected: batch.expectedHead, actual }))
        }
        const parent = Option.isSome(actual) ? actual.value : yield* branch.defaultHead
        const baseTree = (yield* trees.list(parent)).sha
        const tree = yield* client.request("POST /repos/{owner}/{repo}/git/trees", { base_tree: baseTree, tree: blobs }, { kind: "mutation" })
        const commit = yield* client.request(
          "POST /repos/{owner}/{repo}/git/commits",
          { message, tree: (tree.data as { sha: string }).sha, parents: [parent] },
          { kind: "mutation" }
        )
        const sha = String((commit.data as { sha: string }).sha)
        const update = Option.isSome(actual)
          ? client.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { ref: headsRef(branch.name), sha, force: false }, { kind: "content" })
          : // First flush: the branch is created at this commit, whose parent is the default branch head.
            client.request("POST /repos/{owner}/{repo}/git/refs", { ref: `refs/${headsRef(branch.name)}`, sha }, { kind: "content" })
        yield* update.pipe(Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 422, () => Effect.fail(new Moved())))
        yield* Ref.set(seenRef, { etag: undefined, head: Option.some(sha) })
        return sha
      })

    const commit = (batch: CommitBatch): Effect.Effect<CommitResult, RepoCommitError> =>
      Effect.gen(function* () {
        const files = layoutBatch(batch.messages, batch.at)
        yield* branch.defaultBranch
        const blobs = treeEntries(files)
        const message = flushMessage(files, batch.messages.length)
        const landed = yield* land(batch, blobs, message).pipe(
          Effect.retry({ schedule: rebaseRetry, while: (e) => e instanceof Moved }),
          Effect.either
        )
        if (Either.isRight(landed)) {
          return { head: landed.right, bytes: files.reduce((n, f) => n + byteLength(f.content), 0), paths: files.map((f) => f.path) }
        }
        const e = landed.left
        if (e instanceof Moved) return yield* Effect.fail(new RepoConflict({ expected: batch.expectedHead, actual: yield* fetchHead }))
        return yield* Effect.fail(e)
      }).pipe(
        Effect.catchIf(
          (e): e is GitHubFailure | GitHubMisconfigured => e._tag === "GitHubHttpError" || e._tag === "GitHubRateLimited" || e._tag === "GitHubMisconfigured",
          readErr("committing messages")
        )
      )

    return { head, readSince, commit } satisfies ConversationRepoService
  })

/** Layer: the conversation repository over the session's one GitHub client (so it shares the budget). */
export const layerGitHubConversationRepo = (options: ConversationRepoOptions = {}): Layer.Layer<ConversationRepo, never, GitHub> =>
  Layer.effect(ConversationRepo, Effect.flatMap(GitHub, (client) => makeGitHubConversationRepo(client, options)))
