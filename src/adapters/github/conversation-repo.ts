/**
 * ConversationRepo over the git database API on SkyGit's branch: one commit per flush
 * (blobs -> tree on `base_tree` -> commit -> `PATCH` ref with `force: false`), so the ref
 * update is a compare-and-swap on the head. Presence writes move the same branch; a head
 * that moved only by commits outside the conversation folders is not a conflict, and the
 * flush is rebased onto it. `readSince` lists only the day folders that can hold new
 * files and reads only files named as committed since the point.
 */
import { Array as Arr, Effect, Either, Layer, Option, Ref, Schedule } from "effect"
import {
  byteLength,
  committedSince,
  dayMayHold,
  historyKey,
  isDayFolder,
  isHistoryFileName,
  layoutBatch,
  MESSAGES_ROOT,
  pageKeys,
  parseFile,
  PRESENCE_PATH,
  type FileWrite
} from "../../domain/commit-layout.js"
import { parseConversationId } from "../../domain/conversation.js"
import { MessageOrder, type ConversationId, type Message } from "../../domain/message.js"
import {
  ConversationRepo,
  RepoConflict,
  RepoRefused,
  type CommitBatch,
  type CommitRef,
  type CommitResult,
  type CommittedSlice,
  type ConversationRepoService,
  type ExitWriteOutcome,
  type HistoryCursor,
  type HistoryPage,
  PAGE_FILES,
  type RepoCommitError,
  type RepoReadError
} from "../../ports/ConversationRepo.js"
import { headsRef, makeSkygitBranch, SKIP_CI } from "./branch.js"
import { classifyWrite } from "./refusals.js"
import { GitHub, type GitHubClient } from "./client.js"
import { describe, type GitHubFailure, type GitHubMisconfigured } from "./errors.js"
import { encodeBase64Utf8 } from "./base64.js"
import { contentsPutBody, keepaliveExitBudget } from "../../domain/exit-plan.js"
import { makeGitTrees, type TreeEntry } from "./git-trees.js"
import { toRepoError } from "./port-errors.js"
import { ContentsWritten, GitRef, Ignored, Repository, WithSha } from "./wire.js"

/** Times a flush is rebased onto a head moved by presence writes before it reports a conflict. */
export const MAX_REBASES = 6
/** First wait before a rebase; doubles, with jitter. */
export const REBASE_BASE_MS = 50
/** Blob reads in flight at once during `readSince`. */
export const READ_CONCURRENCY = 4
const noMessages: ReadonlyArray<Message> = []
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
  /** The API's base URL (`https://api.github.com` by default, or the hub's): commit links point there. */
  readonly apiBase?: string
}

/**
 * The page of commit `sha`: on github.com for GitHub's API, otherwise (the local hub)
 * the API's own view of the commit, which the hub serves.
 */
export const commitPageUrl = (apiBase: string, owner: string, repo: string, sha: string): string => {
  const base = apiBase.replace(/\/+$/, "")
  return new URL(base).host === "api.github.com"
    ? `https://github.com/${owner}/${repo}/commit/${sha}`
    : `${base}/repos/${owner}/${repo}/git/commits/${sha}`
}

/** The conversation repository over `client`. */
export const makeGitHubConversationRepo = (client: GitHubClient, options: ConversationRepoOptions = {}): Effect.Effect<ConversationRepoService> =>
  Effect.gen(function* () {
    const branch = yield* makeSkygitBranch(client, options.branch)
    const target = { owner: client.owner, repo: client.repo, branch: branch.name }
    const trees = makeGitTrees(client)
    const seenRef = yield* Ref.make<{ readonly etag: string | undefined; readonly head: Option.Option<CommitRef> }>({ etag: undefined, head: Option.none() })
    const readErr = (what: string) => (f: GitHubFailure | GitHubMisconfigured) => Effect.fail(toRepoError(f, what))

    // The branch head by a conditional GET: unchanged is a free 304.
    const fetchHead: Effect.Effect<Option.Option<CommitRef>, GitHubFailure> = Effect.gen(function* () {
      const before = yield* Ref.get(seenRef)
      const r = yield* client
        .requestIfChanged("GET /repos/{owner}/{repo}/git/ref/{ref}", { ref: headsRef(branch.name) }, GitRef, before.etag)
        .pipe(Effect.map(Option.some), Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(Option.none())))
      if (Option.isNone(r)) {
        yield* Ref.set(seenRef, { etag: undefined, head: Option.none() })
        return Option.none()
      }
      // Not modified (a free 304): the head seen last.
      if (Option.isNone(r.value)) return before.head
      const head = Option.some(r.value.value.data.object.sha)
      yield* Ref.set(seenRef, { etag: r.value.value.headers["etag"], head })
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
              Effect.catchIf((e): e is string => typeof e === "string", (reason) => Effect.succeed({ messages: noMessages, skipped: [`${f.path}: ${reason}`] }))
            ),
          { concurrency: READ_CONCURRENCY }
        )
        for (const p of parsed) skipped.push(...p.skipped)
        return { head: at, messages: Arr.sort(parsed.flatMap((p) => p.messages), MessageOrder), skipped }
      }).pipe(Effect.catchAll(readErr("reading committed messages")))

    const conversationList: Effect.Effect<ReadonlyArray<ConversationId>, RepoReadError> = Effect.gen(function* () {
      const folders = yield* conversations(yield* fetchHead)
      return folders.flatMap((f) => Either.getOrUndefined(parseConversationId(f.name)) ?? []).sort()
    }).pipe(Effect.catchAll(readErr("listing conversations")))

    // Day folders newest first, from the cursor's day back: each folder visited gives at least
    // one file or ends the walk, so a page lists at most PAGE_FILES + 1 day folders.
    const readPage = (conversation: ConversationId, before: Option.Option<HistoryCursor>): Effect.Effect<HistoryPage, RepoReadError> =>
      Effect.gen(function* () {
        const folder = Arr.findFirst(yield* conversations(yield* fetchHead), (e) => e.name === conversation)
        if (Option.isNone(folder)) return { messages: [], older: Option.none(), skipped: [] }
        const beforeDay = Option.map(before, (b) => b.slice(0, 10))
        const days = (yield* trees.list(folder.value.sha)).entries
          .filter((d) => d.type === "tree" && isDayFolder(d.name) && Option.match(beforeDay, { onNone: () => true, onSome: (b) => d.name <= b }))
          .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
        const taken: Array<{ readonly key: string; readonly sha: string }> = []
        // Where the next page starts: the oldest file taken, or the start of a day folder not yet read.
        let next: string | undefined
        for (const [i, day] of days.entries()) {
          // Empty day folders (hand-made) must not make a page unbounded: stop after PAGE_FILES + 1 listings.
          if (taken.length === PAGE_FILES || i > PAGE_FILES) {
            next = taken.length === PAGE_FILES ? taken.at(-1)!.key : `${days[i - 1]!.name}/`
            break
          }
          const files = (yield* trees.list(day.sha)).entries.filter((f) => f.type === "blob" && isHistoryFileName(f.name))
          const shaOf = new Map(files.map((f) => [historyKey(day.name, f.name), f.sha]))
          const page = pageKeys([...shaOf.keys()], before, PAGE_FILES - taken.length)
          for (const key of page.taken) taken.push({ key, sha: shaOf.get(key)! })
          if (page.more) {
            next = taken.at(-1)!.key
            break
          }
        }
        const parsed = yield* Effect.forEach(
          taken,
          (f) => {
            const path = `${MESSAGES_ROOT}/${conversation}/${f.key}`
            return trees.blobText(f.sha).pipe(
              Effect.map((text) => parseFile(path, text)),
              Effect.catchIf((e): e is string => typeof e === "string", (reason) => Effect.succeed({ messages: noMessages, skipped: [`${path}: ${reason}`] }))
            )
          },
          { concurrency: READ_CONCURRENCY }
        )
        return {
          messages: Arr.sort(parsed.flatMap((p) => p.messages), MessageOrder),
          older: Option.fromNullable(next),
          skipped: parsed.flatMap((p) => p.skipped)
        }
      }).pipe(Effect.catchAll(readErr("reading a page of history")))

    // Each file goes inline in the tree (`content`, UTF-8 in the JSON body): GitHub makes the
    // blob itself, which saves one request per file on every flush.
    const treeEntries = (files: ReadonlyArray<FileWrite>): ReadonlyArray<Record<string, string>> =>
      files.map((f) => ({ path: f.path, mode: FILE_MODE, type: "blob", content: f.content }))

    // One attempt to land the flush on the current head; Moved when the ref moved under it.
    const land = (batch: CommitBatch, files: ReadonlyArray<FileWrite>, blobs: ReadonlyArray<Record<string, string>>, message: string) =>
      Effect.gen(function* () {
        const actual = yield* fetchHead
        const moved = !Option.getEquivalence((a: string, b: string) => a === b)(actual, batch.expectedHead)
        if (moved && !sameConversations(yield* conversations(actual), yield* conversations(batch.expectedHead))) {
          return yield* Effect.fail(new RepoConflict({ expected: batch.expectedHead, actual }))
        }
        let sha: string
        if (Option.isSome(actual)) {
          const parent = actual.value
          const baseTree = (yield* trees.list(parent)).sha
          const tree = yield* client.request("POST /repos/{owner}/{repo}/git/trees", { base_tree: baseTree, tree: blobs }, WithSha, { kind: "mutation" })
          const commit = yield* client.request("POST /repos/{owner}/{repo}/git/commits", { message, tree: tree.data.sha, parents: [parent] }, WithSha, { kind: "mutation" })
          sha = commit.data.sha
        } else {
          // First flush: the branch starts at a parentless commit holding only `.messages/`.
          sha = yield* branch.rootCommit(files, message)
        }
        const update = Option.isSome(actual)
          ? client.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { ref: headsRef(branch.name), sha, force: false }, Ignored, { kind: "content" })
          : client.request("POST /repos/{owner}/{repo}/git/refs", { ref: `refs/${headsRef(branch.name)}`, sha }, Ignored, { kind: "content" })
        // A 422 is a lost race unless GitHub says it never will accept it (a ruleset, protection).
        yield* update.pipe(
          Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 422 && classifyWrite(f, target)._tag !== "Permanent", () => Effect.fail(new Moved()))
        )
        yield* Ref.set(seenRef, { etag: undefined, head: Option.some(sha) })
        return sha
      })

    const commit = (batch: CommitBatch): Effect.Effect<CommitResult, RepoCommitError> =>
      Effect.gen(function* () {
        const files = layoutBatch(batch.messages, batch.at)
        yield* branch.defaultBranch
        const blobs = treeEntries(files)
        const message = flushMessage(files, batch.messages.length)
        const landed = yield* land(batch, files, blobs, message).pipe(
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
          (e): e is GitHubFailure | GitHubMisconfigured =>
            e._tag === "GitHubHttpError" || e._tag === "RateLimited" || e._tag === "GitHubMalformedResponse" || e._tag === "GitHubMisconfigured",
          (f): Effect.Effect<never, RepoCommitError> => {
            // A permanent refusal is reported as such, so the leader stops instead of retrying.
            const meaning = f._tag === "GitHubMisconfigured" ? undefined : classifyWrite(f, target)
            return meaning?._tag === "Permanent" ? Effect.fail(new RepoRefused({ reason: meaning.reason, detail: meaning.detail, cause: f })) : readErr("committing messages")(f)
          }
        )
      )

    // GitHub's `permissions.push` for this token, read once (a read, never a write).
    const canPush = yield* Effect.cached(
      client.request("GET /repos/{owner}/{repo}", {}, Repository).pipe(
        Effect.map((r) => r.data.permissions?.push !== false),
        Effect.catchAll(readErr("reading the repository's permissions"))
      )
    )

    const exitBudget = keepaliveExitBudget(branch.name)

    // One keepalive PUT per file, all started before this returns: a closing page cannot
    // wait for one answer before sending the next. A PUT of a new path needs no sha.
    const writeOnExit = (files: ReadonlyArray<FileWrite>) =>
      Effect.map(
        Effect.forEach(files, (f) =>
          Effect.map(
            client.keepalive("PUT", `/contents/${f.path.split("/").map(encodeURIComponent).join("/")}`, contentsPutBody(encodeBase64Utf8(f.content), branch.name), ContentsWritten),
            (answer) =>
              answer.pipe(
                Effect.map((r): ExitWriteOutcome => ({ _tag: "Written", path: f.path, head: r.data.commit?.sha ?? "" })),
                Effect.catchAll((e) => Effect.succeed<ExitWriteOutcome>({ _tag: "Refused", path: f.path, detail: describe(e, `writing ${f.path} on the way out`) }))
              )
          )
        ),
        (answers) => Effect.all(answers, { concurrency: "unbounded" })
      )

    const commitUrl = (sha: string) => commitPageUrl(options.apiBase ?? "https://api.github.com", client.owner, client.repo, sha)
    return { head, readSince, conversations: conversationList, readPage, canPush, commit, exitBudget, writeOnExit, commitUrl } satisfies ConversationRepoService
  })

/** Layer: the conversation repository over the session's one GitHub client (so it shares the budget). */
export const layerGitHubConversationRepo = (options: ConversationRepoOptions = {}): Layer.Layer<ConversationRepo, never, GitHub> =>
  Layer.effect(ConversationRepo, Effect.flatMap(GitHub, (client) => makeGitHubConversationRepo(client, options)))
