/**
 * ConversationRepo port: the committed history of every conversation in the
 * repository, written one atomic commit per flush with compare-and-swap on the
 * branch head.
 */
import { Context, Data, Schema, type Effect, type Option } from "effect"
import type { FileWrite } from "../domain/commit-layout.js"
import type { ExitBudgetModel } from "../domain/exit-plan.js"
import type { ConversationId, Message } from "../domain/message.js"
import { RateLimited, withCause } from "./errors.js"

export { RateLimited }

/** A commit id (the branch head). */
export type CommitRef = string

/** The branch head moved since `expectedHead`: re-read, merge, retry. */
export class RepoConflict extends Data.TaggedError("RepoConflict")<{
  readonly expected: Option.Option<CommitRef>
  readonly actual: Option.Option<CommitRef>
}> {}
/** The repository could not be reached or refused for another reason. */
export class RepoUnavailable extends Schema.TaggedError<RepoUnavailable>()("RepoUnavailable", withCause) {}

/**
 * GitHub refused the write for good: no push access, a protected branch or ruleset, an
 * archived or empty repository. Retrying cannot help; `detail` says so in plain words,
 * with what to do.
 */
export class RepoRefused extends Schema.TaggedError<RepoRefused>()("RepoRefused", {
  reason: Schema.Literal("permission", "protected", "archived", "empty"),
  ...withCause
}) {}

/** Everything that can go wrong reading the history. */
export type RepoReadError = RateLimited | RepoUnavailable
/** Everything that can go wrong committing. */
export type RepoCommitError = RepoConflict | RateLimited | RepoRefused | RepoUnavailable

/** What was committed since a point in time. */
export interface CommittedSlice {
  /** The branch head the slice was read at; none when nothing was ever committed. */
  readonly head: Option.Option<CommitRef>
  /** Messages in files committed at or after the point, in `MessageOrder`. */
  readonly messages: ReadonlyArray<Message>
  /** Files or lines that could not be read, each with a reason (they are left as they are). */
  readonly skipped: ReadonlyArray<string>
}

/** One flush: messages of any conversations, written as one commit. */
export interface CommitBatch {
  /**
   * The head this batch was merged against. The commit fails with RepoConflict
   * when conversation history changed since then; other commits on the branch
   * (presence, in file form) do not conflict: the batch goes on top of them.
   */
  readonly expectedHead: Option.Option<CommitRef>
  readonly messages: ReadonlyArray<Message>
  /** Epoch ms of the flush: names the files. */
  readonly at: number
}

/** A commit that landed. */
export interface CommitResult {
  readonly head: CommitRef
  /** UTF-8 bytes of the files the commit wrote. */
  readonly bytes: number
  readonly paths: ReadonlyArray<string>
}

/**
 * What requests that must outlive a closing page may carry: a browser lets a page keep
 * `keepalive` requests in flight only up to a total body size (64 KiB in Chromium).
 */
export type ExitBudget = ExitBudgetModel

/** What became of one exit write. */
export type ExitWriteOutcome =
  | { readonly _tag: "Written"; readonly path: string; readonly head: CommitRef }
  | { readonly _tag: "Refused"; readonly path: string; readonly detail: string }

/**
 * Where a page of one conversation's history stopped: `yyyy-mm-dd/<file name>` of the
 * oldest file it read. The next page reads files strictly before it.
 */
export type HistoryCursor = string

/** Files one page reads at most, so a page costs a bounded number of requests however long the history is. */
export const PAGE_FILES = 6

/**
 * Most requests an adapter spends on one page: on the git API the head, the root,
 * `.messages` and conversation trees, at most PAGE_FILES + 1 day folders, and the files.
 * Listings of git objects are cached, so most pages cost much less.
 */
export const MAX_PAGE_REQUESTS = 4 + (PAGE_FILES + 1) + PAGE_FILES

/** One page of a conversation's committed history, newest files first. */
export interface HistoryPage {
  /** The messages of the page's files, in `MessageOrder`. */
  readonly messages: ReadonlyArray<Message>
  /** Where the next (older) page starts; none when the page reached the conversation's first file. */
  readonly older: Option.Option<HistoryCursor>
  /** Files or lines that could not be read, each with a reason. */
  readonly skipped: ReadonlyArray<string>
}

/** The committed conversations of one repository, as one user sees it. */
export interface ConversationRepoService {
  /** The current head, cheaply (conditional where possible). */
  readonly head: Effect.Effect<Option.Option<CommitRef>, RepoReadError>
  /** Messages in files committed at or after `since` (epoch ms), and the head they were read at. */
  readonly readSince: (since: number) => Effect.Effect<CommittedSlice, RepoReadError>
  /**
   * Whether this user may push to the repository (GitHub's `permissions.push`). Optional: an
   * adapter without it is taken to allow pushing until a write is refused.
   */
  readonly canPush?: Effect.Effect<boolean, RepoReadError>
  /** The conversations with committed history: the folders of `.messages/` that are valid conversation ids. */
  readonly conversations: Effect.Effect<ReadonlyArray<ConversationId>, RepoReadError>
  /**
   * Up to PAGE_FILES files of `conversation` committed before `before` (from the newest when none),
   * across day and month folders, in a bounded number of requests.
   */
  readonly readPage: (conversation: ConversationId, before: Option.Option<HistoryCursor>) => Effect.Effect<HistoryPage, RepoReadError>
  /** Commits a batch atomically, with compare-and-swap on the head. */
  readonly commit: (batch: CommitBatch) => Effect.Effect<CommitResult, RepoCommitError>
  /** The budget of `writeOnExit`. */
  readonly exitBudget: ExitBudget
  /**
   * Writes each file as a new file by one request that completes even if the page closes
   * right after (a contents API PUT sent with `keepalive`), with no compare-and-swap and no
   * wait for a write slot. The outer effect only starts the requests and is synchronous in
   * adapters whose requests outlive the page (call it from `pagehide`); the inner one waits
   * for their outcomes, which a closed page never sees. Files must follow the commit layout.
   */
  readonly writeOnExit: (files: ReadonlyArray<FileWrite>) => Effect.Effect<Effect.Effect<ReadonlyArray<ExitWriteOutcome>>>
  /** A page showing commit `sha` (on GitHub, or the local hub), when the repository has one. */
  readonly commitUrl?: (sha: string) => string
}

/** The conversation repository service. */
export class ConversationRepo extends Context.Tag("skygit/ConversationRepo")<ConversationRepo, ConversationRepoService>() {}
