/**
 * An in-memory GitHub for one repository: the presence file (contents API
 * semantics: blob sha, 409 on a stale sha), the presence Discussion (one comment
 * per author, author set by the host), the SkyGit branch (compare-and-swap on its
 * head), and GitHub's per-user budgets from the domain model. Shared by every
 * simulated peer; the memory adapters are thin clients of it.
 */
import { Clock, Effect } from "effect"
import {
  check,
  emptyBudget,
  emptyUsage,
  githubLimits,
  record,
  type BudgetState,
  type GitHubLimits,
  type RequestKind,
  type UsageCounters
} from "../../domain/budget.js"
import { byteLength, type FileWrite } from "../../domain/commit-layout.js"
import { normalizeLogin } from "../../domain/identity.js"
import { RateLimited } from "../../ports/errors.js"

/** Per-user request counters, as the simulator reports them (the domain's usage counters). */
export type UserStats = UsageCounters

/** A refusal, as GitHub would answer it. */
export type WorldFailure =
  | RateLimited
  | { readonly _tag: "Unavailable"; readonly detail: string }

/** One commit on the SkyGit branch. */
export interface WorldCommit {
  readonly sha: string
  readonly parent: string | null
  readonly at: number
  readonly author: string
  readonly files: ReadonlyArray<FileWrite>
}

/** Scripted faults, consumed in order. */
export interface WorldFaults {
  /** The next n compare-and-swap writes (presence file or branch) lose as if someone else won. */
  conflicts: number
  /** Until this epoch ms every request is refused with a secondary limit. */
  rateLimitedUntil: number
  /** Until this epoch ms every request fails as unavailable (5xx). */
  unavailableUntil: number
}

/** Options of the in-memory GitHub. */
export interface MemoryGitHubOptions {
  readonly limits?: GitHubLimits
  /** Simulated time one request takes. */
  readonly latencyMs?: number
  /** Users who may read but not push (GitHub's `permissions.push: false`): their commits are refused. */
  readonly readOnly?: ReadonlyArray<string>
  /** Whether the conversation repo tells its user's push permission (default true); false models an adapter that learns it only when refused. */
  readonly permissionsKnown?: boolean
}

/** An in-memory GitHub repository. */
export class MemoryGitHub {
  readonly limits: GitHubLimits
  readonly latencyMs: number
  readonly stats = new Map<string, UserStats>()
  readonly faults: WorldFaults = { conflicts: 0, rateLimitedUntil: 0, unavailableUntil: 0 }
  /** The presence file: its text and blob sha (version). Set through `writePresenceFile`. */
  presenceFile: { text: string; sha: string } | undefined = undefined
  /** The SkyGit settings file (`.messages/skygit.json`) and its blob sha; a commit outside the conversation folders. */
  settingsFile: { text: string; sha: string } | undefined = undefined
  /** How many commits the presence file took (each is a commit on GitHub). */
  presenceWrites = 0
  /** The presence Discussion's comments by author (case-folded login). */
  readonly comments = new Map<string, { id: string; author: string; body: string; version: number }>()
  /** Commits of the SkyGit branch, oldest first. */
  readonly commits: Array<WorldCommit> = []
  /** Every file of the branch's head tree. */
  readonly files = new Map<string, string>()
  /** How many comment creations and edits the presence Discussion took. */
  commentEdits = 0
  private readonly budgets = new Map<string, BudgetState>()
  private counter = 0
  private commentsVersion = 0

  constructor(options: MemoryGitHubOptions = {}) {
    this.limits = options.limits ?? githubLimits
    this.latencyMs = options.latencyMs ?? 120
    this.readOnly = new Set((options.readOnly ?? []).map(normalizeLogin))
    this.permissionsKnown = options.permissionsKnown ?? true
  }

  /** Users who cannot push (normalized logins). */
  readonly readOnly: ReadonlySet<string>
  readonly permissionsKnown: boolean

  /** Whether a user may push. */
  canPush(user: string): boolean {
    return !this.readOnly.has(normalizeLogin(user))
  }

  /** Counters of one user (case-insensitive). */
  statsOf(user: string): UserStats {
    const key = normalizeLogin(user)
    let s = this.stats.get(key)
    if (s === undefined) {
      s = emptyUsage()
      this.stats.set(key, s)
    }
    return s
  }

  /** A fresh opaque id (sha-like), deterministic in creation order. */
  nextSha(prefix: string): string {
    this.counter += 1
    return `${prefix}${this.counter.toString(16).padStart(12, "0")}`
  }

  /**
   * Runs one request of `user`: waits the request latency, applies faults, checks
   * the budget for what the request costs (`kind`: a 304 is free) and only then
   * runs it, so a refused request changes nothing.
   */
  request<A>(
    user: string,
    kind: RequestKind | ((now: number) => RequestKind),
    run: (now: number) => A
  ): Effect.Effect<A, WorldFailure> {
    return Effect.gen(this, function* () {
      if (this.latencyMs > 0) yield* Effect.sleep(this.latencyMs)
      const now = yield* Clock.currentTimeMillis
      const stats = this.statsOf(user)
      if (now < this.faults.unavailableUntil) {
        return yield* Effect.fail<WorldFailure>({ _tag: "Unavailable", detail: "GitHub answered 503 Service Unavailable" })
      }
      if (now < this.faults.rateLimitedUntil) {
        stats.rateLimited += 1
        return yield* Effect.fail<WorldFailure>(new RateLimited({ limit: "secondary", retryAfterMs: this.faults.rateLimitedUntil - now }))
      }
      const key = normalizeLogin(user)
      const budget = this.budgets.get(key) ?? emptyBudget(this.limits)
      const cost = typeof kind === "function" ? kind(now) : kind
      const verdict = check(budget, cost, now, this.limits)
      if (verdict._tag === "Limited") {
        stats.rateLimited += 1
        return yield* Effect.fail<WorldFailure>(new RateLimited({ limit: verdict.limit, retryAfterMs: verdict.retryAfterMs }))
      }
      this.budgets.set(key, record(budget, cost, now))
      if (cost === "notModified") stats.notModified += 1
      else stats.requests += 1
      if (cost === "write") stats.writes += 1
      return run(now)
    })
  }

  /** Replaces the presence file (one commit). */
  writePresenceFile(text: string): string {
    const sha = this.nextSha("b")
    this.presenceFile = { text, sha }
    this.presenceWrites += 1
    return sha
  }

  /** Whether a scripted conflict should make this compare-and-swap lose. */
  takeConflict(): boolean {
    if (this.faults.conflicts <= 0) return false
    this.faults.conflicts -= 1
    return true
  }

  /** The current head of the SkyGit branch. */
  get head(): string | null {
    return this.commits.at(-1)?.sha ?? null
  }

  /** Appends a commit to the branch (the caller checked the compare-and-swap). */
  appendCommit(author: string, at: number, files: ReadonlyArray<FileWrite>): WorldCommit {
    const commit: WorldCommit = { sha: this.nextSha("c"), parent: this.head, at, author, files }
    this.commits.push(commit)
    for (const f of files) this.files.set(f.path, f.content)
    return commit
  }

  /** Bytes written by one commit. */
  static commitBytes(commit: WorldCommit): number {
    return commit.files.reduce((n, f) => n + byteLength(f.content), 0)
  }

  /** A version stamp of the whole comment list (an ETag). */
  get commentsEtag(): number {
    return this.commentsVersion
  }

  /** Creates or replaces the comment of `author`. */
  putComment(author: string, body: string): void {
    this.commentEdits += 1
    const key = normalizeLogin(author)
    this.commentsVersion += 1
    const old = this.comments.get(key)
    this.comments.set(key, { id: old?.id ?? this.nextSha("DC_"), author, body, version: this.commentsVersion })
  }
}
