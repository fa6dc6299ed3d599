/**
 * The hub's whole mutable state: users and their tokens, repositories (git store plus
 * Discussions), per-user budgets and counters. Handlers mutate it under the hub's lock.
 */
import { emptyBudget, emptyUsage, githubLimits, type BudgetState, type GitHubLimits, type UsageCounters } from "../domain/budget.js"
import type { GitRepo } from "./git-repo.js"
import type { FaultSwitches } from "./github-faults.js"

/** A user or organisation account. */
export interface Account {
  readonly login: string
  readonly id: number
  readonly type: "User" | "Organization"
}

/** A Discussion category. */
export interface Category {
  readonly id: string
  readonly name: string
  readonly slug: string
  /** Announcements kind: only maintainers may start a discussion in it. */
  readonly maintainersOnly?: boolean
}

/** A Discussion comment (or a reply, when `replyTo` is set). */
export interface DiscussionComment {
  readonly id: string
  /** Creation order across the hub: stable pagination cursors survive deletions. */
  readonly serial: number
  readonly discussionId: string
  body: string
  readonly author: string
  readonly createdAt: number
  updatedAt: number
  /** Earlier bodies, oldest first: GitHub keeps `userContentEdits` for every edit. */
  readonly edits: Array<{ readonly at: number; readonly editor: string; readonly previous: string }>
  readonly replyTo: string | undefined
}

/** A Discussion with its comments in creation order. */
export interface Discussion {
  readonly id: string
  readonly number: number
  title: string
  body: string
  readonly author: string
  readonly categoryId: string
  readonly createdAt: number
  updatedAt: number
  readonly comments: Array<DiscussionComment>
}

/** One hosted repository. */
export interface RepoState {
  readonly owner: Account
  readonly name: string
  readonly fullName: string
  readonly id: number
  readonly nodeId: string
  readonly git: GitRepo
  readonly defaultBranch: string
  readonly createdAt: number
  readonly collaborators: ReadonlySet<string> | undefined
  discussionsEnabled: boolean
  readonly categories: Array<Category>
  readonly discussions: Array<Discussion>
  nextDiscussionNumber: number
  /** Saves Discussions after a mutation (disk mode keeps them beside the bare repository). */
  readonly persist: () => Promise<void>
  /** Commits that reached each branch through the API (the seed commit excluded). */
  readonly commitsByBranch: Map<string, number>
  /** Recent values of each ref, oldest first, so a stale read can answer an older head (`stale-reads`). */
  readonly refLog: Map<string, Array<RefChange>>
  /** The hub's clock (ref changes are timed with it). */
  readonly clock: () => number
}

/** One move of a ref: what it was before, what it became, when. */
export interface RefChange {
  readonly at: number
  readonly previous: string | undefined
  readonly sha: string | undefined
}

/** Per-user counters the tests and the simulator read (the domain's usage counters). */
export type UserStats = UsageCounters

/** A user's three budgets: REST primary, GraphQL primary, and content creation (shared by both APIs). */
export interface UserBudgets {
  core: BudgetState
  graphql: BudgetState
  content: BudgetState
}

/** Everything the hub knows. */
export interface HubState {
  readonly now: () => number
  readonly limits: GitHubLimits
  readonly accounts: Map<string, Account>
  readonly users: ReadonlySet<string>
  readonly tokens: Map<string, string>
  readonly repos: Map<string, RepoState>
  readonly budgets: Map<string, UserBudgets>
  readonly stats: Map<string, UserStats>
  nextNodeSerial: number
  /** GitHub behaviours switched on for this run (`--fault`). */
  readonly faults: FaultSwitches
  /** Seeded randomness for faults (stale-read lags), so runs repeat. */
  readonly random: () => number
  /** The branch head each user last saw, by `login\nrepo\nbranch` (`branch-moves`). */
  readonly observedHeads: Map<string, string>
  /** GraphQL requests seen and, per user, when a secondary-limit refusal ends (`graphql-secondary`). */
  graphqlSeen: number
  readonly graphqlBlockedUntil: Map<string, number>
}

/** A fresh counter set. */
export const emptyStats = emptyUsage

/** Fresh budgets for one user. */
export const emptyBudgets = (limits: GitHubLimits = githubLimits): UserBudgets => ({
  core: emptyBudget(limits),
  graphql: emptyBudget(limits),
  // The content window only limits writes; its primary part must never bite.
  content: emptyBudget({ ...limits, primaryPerHour: Number.MAX_SAFE_INTEGER })
})

/** The stats record of a user, created on first use. */
export const statsOf = (state: HubState, login: string): UserStats => {
  let s = state.stats.get(login)
  if (s === undefined) {
    s = emptyStats()
    state.stats.set(login, s)
  }
  return s
}

/** An opaque GraphQL-style node id with GitHub's type prefix. */
export const newNodeId = (state: HubState, prefix: string): string =>
  `${prefix}_kwDO${Buffer.from(`hub:${state.nextNodeSerial++}`).toString("base64url")}`

/** Whether a user may read and push to a repository. */
export const canAccess = (repo: RepoState, login: string): boolean =>
  repo.owner.login === login || repo.collaborators === undefined || repo.collaborators.has(login)

/** Whether a user may push (`read-only:USER` takes it away). */
export const canPush = (state: HubState, repo: RepoState, login: string): boolean => canAccess(repo, login) && !state.faults.readOnly.has(login)

/** Whether a user has maintain access: the owner, or a `maintainer-edits:USER`. */
export const isMaintainer = (state: HubState, repo: RepoState, login: string): boolean =>
  repo.owner.login === login || state.faults.maintainers.has(login)

