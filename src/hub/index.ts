/**
 * The local GitHub-compatible hub: the subset of GitHub's REST and GraphQL API SkyGit uses,
 * as a fetch-style handler (in-process) that `serveHub` also serves over node:http.
 */
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { githubLimits, type GitHubLimits } from "../domain/budget.js"
import { decodeUtf8, encodeUtf8 } from "./git-objects.js"
import { gitRepo } from "./git-repo.js"
import { loadDiscussions, saveDiscussions } from "./discussions-file.js"
import { diskGitStore } from "./git-store-disk.js"
import { memoryGitStore } from "./git-store-memory.js"
import { faultBook, type FaultRule } from "./faults.js"
import { seededRandom, switchesOf, type GitHubFault } from "./github-faults.js"
import { graphqlHandler } from "./graphql.js"
import { makeHandler, type Exchange } from "./handler.js"
import { accountRoutes } from "./rest/account.js"
import { moveRef } from "./rest/branches.js"
import { compareRoutes } from "./rest/compare.js"
import { contentsRoutes } from "./rest/contents.js"
import { gitDataRoutes } from "./rest/git-data.js"
import { emptyStats, newNodeId, type Account, type HubState, type RepoState, type UserStats } from "./state.js"
import { serveHub } from "./server.js"

export type { Exchange } from "./handler.js"
export type { FaultRule } from "./faults.js"
export { FAULT_NAMES, parseFault, type GitHubFault } from "./github-faults.js"
export type { UserStats } from "./state.js"
export { serveHub }

/** A repository to host: "owner/name", or with options (Discussions off, categories, collaborators). */
export type RepoSpec =
  | string
  | {
      readonly name: string
      /** Discussions feature on (default true). */
      readonly discussions?: boolean
      /** Discussion categories (default ["General"]; [] for none). */
      readonly categories?: ReadonlyArray<string>
      /** Who besides the owner may access it (default: every user). */
      readonly collaborators?: ReadonlyArray<string>
    }

/** How to build a hub. */
export interface HubOptions {
  /** Logins; each gets a token. */
  readonly users: ReadonlyArray<string>
  /** Repositories; the owner is one of the users or else an organisation. Every user is a collaborator with push. */
  readonly repos: ReadonlyArray<RepoSpec>
  /** When set, each repo is a bare git repository at `dataDir/owner/name.git`; else in memory. */
  readonly dataDir?: string
  /** Epoch ms clock (the simulator drives it from TestClock); default Date.now. */
  readonly now?: () => number
  /** Budgets; default GitHub's. */
  readonly limits?: GitHubLimits
  /** Default "main"; each new repo starts with one commit (README.md) on it. */
  readonly defaultBranch?: string
  /** Fixed tokens by login (e.g. persisted by the CLI); others are random. */
  readonly tokens?: Readonly<Record<string, string>>
  /** GitHub behaviours to switch on, as `--fault` takes them ("read-only:bob", "stale-reads:2000"...). */
  readonly faults?: ReadonlyArray<GitHubFault | string>
  /** Seed of the faults' randomness (stale-read lags); default 1. */
  readonly seed?: number
}

/** Scripted faults. */
export interface HubFaults {
  /** Adds a rule: matched by method + path regex (method "graphql" = POST /graphql), consumed in order. */
  inject(rule: FaultRule): void
  /** Commits raw content at a path, bypassing the API (broken JSON, a 5 MB file). */
  corruptFile(repo: string, branch: string, path: string, content: string): Promise<void>
  /** Drops every pending rule. */
  clear(): void
}

/** Counters per user and commits per branch per repository. */
export interface HubStats {
  readonly users: Readonly<Record<string, UserStats>>
  readonly repos: Readonly<Record<string, { readonly commits: Readonly<Record<string, number>> }>>
}

/** A running hub. */
export interface Hub {
  /** Fetch-style handler, usable in-process (e.g. as Octokit's `request.fetch`). */
  readonly handle: (request: Request) => Promise<Response>
  /** The first token of a user. */
  readonly tokenOf: (user: string) => string
  /** A further token of the same user (shares that user's budget). */
  readonly issueToken: (user: string) => string
  readonly faults: HubFaults
  /** A snapshot of the counters. */
  readonly stats: () => HubStats
  /** Registers a listener for every request/response; returns its removal. */
  readonly onExchange: (listener: (e: Exchange) => void) => () => void
  /** Direct state inspection for tests. */
  readonly git: {
    readFile(repo: string, branch: string, path: string): Promise<string | undefined>
    log(repo: string, branch: string): Promise<ReadonlyArray<{ sha: string; message: string; paths: ReadonlyArray<string> }>>
  }
}

/** Where the first user's id starts; organisations get ids from ORG_ID_BASE. */
const USER_ID_BASE = 1
const ORG_ID_BASE = 10_000
const REPO_ID_BASE = 100_000
/** `ghp_` plus 36 characters, the shape of a classic personal access token. */
const TOKEN_CHARS = 36
/** Who the seed commit and corruptFile commits are by. */
const HUB_SIGNATURE = { name: "SkyGit Hub", email: "hub@skygit.local", offset: "+0000" }

const newToken = (): string => `ghp_${randomBytes(32).toString("base64url").replace(/[-_]/g, "x").slice(0, TOKEN_CHARS)}`

/**
 * `many-discussions:N`: N unrelated discussions, all older than anything SkyGit creates, so a
 * client that scans discussions page by page meets them first.
 */
const seedUnrelatedDiscussions = (state: HubState, repo: RepoState, count: number): void => {
  const category = repo.categories[0]
  if (count <= 0 || category === undefined || repo.discussions.length > 0) return
  const at = state.now() - 1
  for (let k = 0; k < count; k++) {
    repo.discussions.push({
      id: newNodeId(state, "D"),
      number: repo.nextDiscussionNumber++,
      title: `Unrelated discussion ${k + 1}`,
      body: "Seeded by the hub's many-discussions fault.",
      author: repo.owner.login,
      categoryId: category.id,
      createdAt: at,
      updatedAt: at,
      comments: []
    })
  }
}

const specOf = (spec: RepoSpec) => (typeof spec === "string" ? { name: spec } : spec)

/** Builds a hub: accounts, tokens, and each repository seeded with its first commit. */
export const createHub = async (options: HubOptions): Promise<Hub> => {
  const now = options.now ?? Date.now
  const defaultBranch = options.defaultBranch ?? "main"
  const state: HubState = {
    now,
    limits: options.limits ?? githubLimits,
    accounts: new Map(),
    users: new Set(options.users),
    tokens: new Map(),
    repos: new Map(),
    budgets: new Map(),
    stats: new Map(),
    nextNodeSerial: 1,
    faults: switchesOf(options.faults ?? []),
    random: seededRandom(options.seed ?? 1),
    observedHeads: new Map(),
    graphqlSeen: 0,
    graphqlBlockedUntil: new Map()
  }
  const firstToken = new Map<string, string>()
  options.users.forEach((login, i) => {
    state.accounts.set(login, { login, id: USER_ID_BASE + i, type: "User" })
    const token = options.tokens?.[login] ?? newToken()
    state.tokens.set(token, login)
    firstToken.set(login, token)
  })
  for (const [i, raw] of options.repos.entries()) {
    const spec = specOf(raw)
    const [ownerLogin, name, ...extra] = spec.name.split("/")
    if (ownerLogin === undefined || name === undefined || ownerLogin === "" || name === "" || extra.length > 0) {
      throw new Error(`repository must be "owner/name", got ${spec.name}`)
    }
    let owner: Account | undefined = state.accounts.get(ownerLogin)
    if (owner === undefined) {
      owner = { login: ownerLogin, id: ORG_ID_BASE + state.accounts.size, type: "Organization" }
      state.accounts.set(ownerLogin, owner)
    }
    const store = options.dataDir === undefined ? memoryGitStore() : await diskGitStore(join(options.dataDir, ownerLogin, `${name}.git`), defaultBranch)
    const discussionsPath = options.dataDir === undefined ? undefined : join(options.dataDir, ownerLogin, `${name}.discussions.json`)
    const saved = discussionsPath === undefined ? undefined : await loadDiscussions(discussionsPath)
    if (saved !== undefined) state.nextNodeSerial = Math.max(state.nextNodeSerial, saved.nextSerial)
    const id = REPO_ID_BASE + i
    const repo: RepoState = {
      owner,
      name,
      fullName: `${ownerLogin}/${name}`,
      id,
      // Derived from the repository id, not a counter, so ids survive restarts in disk mode.
      nodeId: `R_kgDO${Buffer.from(`repo:${id}`).toString("base64url")}`,
      git: gitRepo(store),
      defaultBranch,
      createdAt: now(),
      collaborators: spec.collaborators === undefined ? undefined : new Set(spec.collaborators),
      discussionsEnabled: saved?.discussionsEnabled ?? spec.discussions ?? true,
      categories: [
        ...(saved?.categories ??
          // `announcements-only`: the one category is of the Announcements kind (maintainers post).
          (state.faults.announcementsOnly ? ["Announcements"] : (spec.categories ?? ["General"])).map((c, k) => ({
            id: `DIC_kwDO${Buffer.from(`category:${id}:${k}`).toString("base64url")}`,
            name: c,
            slug: c.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
            ...(state.faults.announcementsOnly ? { maintainersOnly: true } : {})
          })))
      ],
      discussions: [...(saved?.discussions ?? [])],
      nextDiscussionNumber: saved?.nextDiscussionNumber ?? 1,
      persist: async () => {
        if (discussionsPath === undefined) return
        await saveDiscussions(discussionsPath, {
          nextSerial: state.nextNodeSerial,
          nextDiscussionNumber: repo.nextDiscussionNumber,
          discussionsEnabled: repo.discussionsEnabled,
          categories: repo.categories,
          discussions: repo.discussions
        })
      },
      commitsByBranch: new Map(),
      refLog: new Map(),
      clock: now
    }
    const ref = `refs/heads/${defaultBranch}`
    // `empty`: a repository with no commit at all (GitHub answers "Git Repository is empty.").
    if ((await store.getRef(ref)) === undefined && !state.faults.empty) {
      const who = { ...HUB_SIGNATURE, seconds: Math.floor(now() / 1000) }
      const seed = await repo.git.commitFiles(undefined, [{ path: "README.md", data: encodeUtf8(`# ${name}\n`) }], "Initial commit", who)
      await store.setRef(ref, seed)
    }
    seedUnrelatedDiscussions(state, repo, state.faults.manyDiscussions)
    state.repos.set(repo.fullName.toLowerCase(), repo)
  }

  const faults = faultBook()
  const listeners = new Set<(e: Exchange) => void>()
  const routes = [...accountRoutes, ...contentsRoutes, ...gitDataRoutes, ...compareRoutes]
  const handle = makeHandler(state, faults, routes, graphqlHandler, listeners)

  const repoOf = (name: string): RepoState => {
    const r = state.repos.get(name.toLowerCase())
    if (r === undefined) throw new Error(`no repository ${name}`)
    return r
  }

  return {
    handle,
    tokenOf: (user) => {
      const t = firstToken.get(user)
      if (t === undefined) throw new Error(`no user ${user}`)
      return t
    },
    issueToken: (user) => {
      if (!state.users.has(user)) throw new Error(`no user ${user}`)
      const t = newToken()
      state.tokens.set(t, user)
      return t
    },
    faults: {
      inject: faults.inject,
      clear: faults.clear,
      corruptFile: async (name, branch, path, content) => {
        const repo = repoOf(name)
        const ref = `refs/heads/${branch}`
        const head = await repo.git.store.getRef(ref)
        const who = { ...HUB_SIGNATURE, seconds: Math.floor(now() / 1000) }
        const sha = await repo.git.commitFiles(head, [{ path, data: encodeUtf8(content) }], `Corrupt ${path} (fault injection)`, who)
        await moveRef(repo, ref, head, sha)
      }
    },
    stats: () => ({
      users: Object.fromEntries(options.users.map((u) => [u, { ...(state.stats.get(u) ?? emptyStats()) }])),
      repos: Object.fromEntries([...state.repos.values()].map((r) => [r.fullName, { commits: Object.fromEntries(r.commitsByBranch) }]))
    }),
    onExchange: (listener) => {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    git: {
      readFile: async (name, branch, path) => {
        const repo = repoOf(name)
        const head = await repo.git.store.getRef(`refs/heads/${branch}`)
        const commit = head === undefined ? undefined : await repo.git.readCommit(head)
        const entry = commit === undefined ? undefined : await repo.git.resolve(commit.tree, path)
        const blob = entry?.type === "blob" ? await repo.git.getTyped(entry.sha, "blob") : undefined
        return blob === undefined ? undefined : decodeUtf8(blob.data)
      },
      log: async (name, branch) => {
        const repo = repoOf(name)
        const out: Array<{ sha: string; message: string; paths: ReadonlyArray<string> }> = []
        let sha = await repo.git.store.getRef(`refs/heads/${branch}`)
        // First-parent history, newest first, like `git log --first-parent`.
        while (sha !== undefined) {
          const c = await repo.git.readCommit(sha)
          if (c === undefined) break
          const parentTree = c.parents[0] === undefined ? undefined : (await repo.git.readCommit(c.parents[0]))?.tree
          out.push({ sha, message: c.message, paths: await repo.git.changedPaths(parentTree, c.tree) })
          sha = c.parents[0]
        }
        return out
      }
    }
  }
}
