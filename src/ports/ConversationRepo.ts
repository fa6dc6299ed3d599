/**
 * ConversationRepo port: the committed history of every conversation in the
 * repository, written one atomic commit per flush with compare-and-swap on the
 * branch head.
 */
import { Context, Data, type Effect, type Option } from "effect"
import type { Message } from "../domain/message.js"

/** A commit id (the branch head). */
export type CommitRef = string

/** The branch head moved since `expectedHead`: re-read, merge, retry. */
export class RepoConflict extends Data.TaggedError("RepoConflict")<{
  readonly expected: Option.Option<CommitRef>
  readonly actual: Option.Option<CommitRef>
}> {}
/** GitHub refused for budget: `limit` tells which, `retryAfterMs` when to try again. */
export class RepoRateLimited extends Data.TaggedError("RepoRateLimited")<{
  readonly limit: "primary" | "secondary"
  readonly retryAfterMs: number
}> {}
/** The repository could not be reached or refused for another reason. */
export class RepoUnavailable extends Data.TaggedError("RepoUnavailable")<{ readonly detail: string }> {}

/** Everything that can go wrong reading the history. */
export type RepoReadError = RepoRateLimited | RepoUnavailable
/** Everything that can go wrong committing. */
export type RepoCommitError = RepoConflict | RepoRateLimited | RepoUnavailable

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

/** The committed conversations of one repository, as one user sees it. */
export interface ConversationRepoService {
  /** The current head, cheaply (conditional where possible). */
  readonly head: Effect.Effect<Option.Option<CommitRef>, RepoReadError>
  /** Messages in files committed at or after `since` (epoch ms), and the head they were read at. */
  readonly readSince: (since: number) => Effect.Effect<CommittedSlice, RepoReadError>
  /** Commits a batch atomically, with compare-and-swap on the head. */
  readonly commit: (batch: CommitBatch) => Effect.Effect<CommitResult, RepoCommitError>
  /** A page showing commit `sha` (on GitHub, or the local hub), when the repository has one. */
  readonly commitUrl?: (sha: string) => string
}

/** The conversation repository service. */
export class ConversationRepo extends Context.Tag("skygit/ConversationRepo")<ConversationRepo, ConversationRepoService>() {}
