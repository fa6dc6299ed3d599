/**
 * `npm run sim -- --github hub`: the same simulation with the real GitHub adapters
 * (Octokit) against an in-process hub (in-memory git), every request a real one the hub
 * counts. The hub's clock is the virtual clock, so its budgets, ETags and commit times
 * follow simulated time; `runVirtualAsync` lets the hub's promises settle before time moves.
 *
 * The report keeps the simulator's shape; its GitHub counters come from `hub.stats()`,
 * its committed messages from the history of SkyGit's branch (read back through the API
 * by an auditor account whose requests are not counted), and what issue 3's targets need
 * is added under `hub`.
 */
import { Effect, Random } from "effect"
import { gitHubBackend } from "../main/sim.js"
import { parsePath, PRESENCE_PATH } from "../domain/commit-layout.js"
import { createHub, type Exchange, type Hub } from "../hub/index.js"
import type { GitHubBackend } from "./harness.js"
import { simulate, userName, type GitHubFigures, type SimOptions, type SimReport } from "./simulate.js"
import { ExternalWork, runVirtualAsyncOrThrow } from "./virtual-time.js"

/** The repository the simulated users share (owned by an organisation). */
export const SIM_REPOSITORY = "demo/chat"
/** SkyGit's branch (the adapters' default). */
export const SKYGIT_BRANCH = "skygit"
/** The hub's default branch. */
export const DEFAULT_BRANCH = "main"
/** Reads the history back after the run; its requests are not part of the figures. */
const AUDITOR = "skygit-audit"
const ORIGIN = "http://hub.invalid"

/** A fixed token per login, so runs do not depend on random tokens. */
const tokenFor = (login: string): string => `ghp_sim${login.replace(/[^a-z0-9]/gi, "x")}`.padEnd(40, "0")

/** What the hub saw, beyond the simulator's usual figures (issue 3's targets). */
export interface HubReport {
  readonly repository: string
  /** Commits of the run per branch (SkyGit's and the default one). */
  readonly commits: { readonly skygit: number; readonly presence: number; readonly conversations: number; readonly defaultBranch: number }
  readonly skygitCommitsPerHour: number
  /** Commit messages on SkyGit's branch without `[skip ci]`. */
  readonly commitsWithoutSkipCi: number
  /** Busiest user: primary-counted requests per hour (304s are free). */
  readonly maxUserRequestsPerHour: number
  /** 403/429 answers: secondary (content creation) and primary limits. */
  readonly secondaryLimitHits: number
  readonly primaryLimitHits: number
  /** 409/422 answers to compare-and-swap writes (presence PUTs with a stale sha, ref updates). */
  readonly casConflicts: number
  readonly presencePuts: number
  /** Presence PUTs that lost their compare-and-swap (409 stale sha, 422 missing sha): racing writers really race. */
  readonly presenceConflicts: number
  /** Requests of the simulated users by operation (REST route or GraphQL operation name): charged ones and free 304s. */
  readonly byOperation: Readonly<Record<string, { readonly requests: number; readonly notModified: number }>>
  /** Discussion form: mutations that succeeded. */
  readonly discussion: {
    readonly discussionsCreated: number
    readonly commentsAdded: number
    readonly commentEdits: number
    readonly commentsDeleted: number
    readonly maxCommentEditsPerUserPerHour: number
    readonly maxCommentsAddedPerUser: number
  }
}

/** The simulator's report with the hub's own figures. */
export interface HubSimReport extends SimReport {
  readonly hub: HubReport
}

const MUTATIONS = ["createDiscussion", "addDiscussionComment", "updateDiscussionComment", "deleteDiscussionComment"] as const
type Mutation = (typeof MUTATIONS)[number]

/** A request's operation: the REST route with shas as `{sha}`, or the GraphQL operation name. */
const operationOf = (method: string, path: string, requestBody: unknown): string => {
  if (path === "/graphql") {
    const query = String((requestBody as { query?: unknown } | undefined)?.query ?? "")
    const named = /^\s*(query|mutation)\s+(\w+)/.exec(query)
    return `graphql ${named === null ? "anonymous" : `${named[1]} ${named[2]}`}`
  }
  return `${method} ${path.replace(`/repos/${SIM_REPOSITORY}`, "/repos/{owner}/{repo}").replace(/\b[0-9a-f]{40}\b/g, "{sha}")}`
}

/** Counts what the adapters asked of the hub, from its exchange log. */
class ExchangeLog {
  readonly commitTimes = new Map<string, number>()
  secondary = 0
  primary = 0
  conflicts = 0
  presencePuts = 0
  presenceConflicts = 0
  readonly mutations = new Map<string, Record<Mutation, number>>()
  readonly operations = new Map<string, { requests: number; notModified: number }>()

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly now: () => number
  ) {}

  record(e: Exchange): void {
    const token = /\S+$/.exec(e.requestHeaders["authorization"] ?? "")?.[0]
    const user = token === undefined ? undefined : this.users.get(token)
    if (user === undefined || user === AUDITOR) return
    const path = new URL(e.url).pathname
    const body = (e.responseBody ?? {}) as Record<string, unknown>
    if (e.status === 403 || e.status === 429) {
      const secondary = e.responseHeaders["retry-after"] !== undefined || /secondary rate limit/i.test(String(body["message"] ?? ""))
      if (secondary) this.secondary += 1
      else this.primary += 1
      return
    }
    // Refused requests are not charged; every other answer is, except a 304.
    const op = operationOf(e.method, path, e.requestBody)
    const counts = this.operations.get(op) ?? { requests: 0, notModified: 0 }
    if (e.status === 304) counts.notModified += 1
    else counts.requests += 1
    this.operations.set(op, counts)
    if (e.status === 409 || (e.status === 422 && (e.method === "PUT" || e.method === "PATCH"))) this.conflicts += 1
    const ok = e.status >= 200 && e.status < 300
    if (e.method === "PUT" && path.includes("/contents/")) {
      this.presencePuts += 1
      if (e.status === 409 || e.status === 422) this.presenceConflicts += 1
      const sha = (body["commit"] as { sha?: unknown } | undefined)?.sha
      if (ok && typeof sha === "string") this.commitTimes.set(sha, this.now())
    }
    if (ok && (e.method === "PATCH" || e.method === "POST") && /\/git\/refs(\/|$)/.test(path)) {
      const sha = (body["object"] as { sha?: unknown } | undefined)?.sha
      if (typeof sha === "string") this.commitTimes.set(sha, this.now())
    }
    if (e.method === "POST" && path === "/graphql" && ok) {
      const errors = body["errors"]
      if (Array.isArray(errors) && errors.length > 0) return
      const query = String((e.requestBody as { query?: unknown } | undefined)?.query ?? "")
      for (const m of MUTATIONS) {
        if (!new RegExp(`\\b${m}\\s*\\(`).test(query)) continue
        const counts = this.mutations.get(user) ?? { createDiscussion: 0, addDiscussionComment: 0, updateDiscussionComment: 0, deleteDiscussionComment: 0 }
        counts[m] += 1
        this.mutations.set(user, counts)
      }
    }
  }
}

/** A simulation wired to a fresh in-process hub, and how to read its figures afterwards. */
export interface HubSimulation {
  readonly hub: Hub
  readonly backend: GitHubBackend
  readonly figures: Effect.Effect<GitHubFigures>
  readonly report: (base: SimReport) => Effect.Effect<HubSimReport>
}

/**
 * Builds the hub (clocked by the current, virtual, clock) for `users`, and the backend the
 * mesh uses: each session gets its own Octokit client, as a real browser tab would.
 */
export const makeHubSimulation = (options: {
  readonly users: ReadonlyArray<string>
  readonly presence: "file" | "discussion"
  readonly minutes: number
  readonly work: ExternalWork
  /** Real-GitHub behaviours to switch on in the hub (`--fault` of `npm run hub`). */
  readonly faults?: ReadonlyArray<string>
  readonly seed?: number
}): Effect.Effect<HubSimulation> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    const logins = [...options.users, AUDITOR]
    const tokens = Object.fromEntries(logins.map((u) => [u, tokenFor(u)]))
    const created = yield* Effect.promise(() =>
      options.work.track(() => createHub({ users: logins, repos: [SIM_REPOSITORY], now, tokens, defaultBranch: DEFAULT_BRANCH, faults: options.faults ?? [], seed: options.seed ?? 1 }))
    )
    const log = new ExchangeLog(new Map(logins.map((u) => [tokens[u]!, u])), now)
    created.onExchange((e) => log.record(e))
    // Every request is tracked, so the driver lets it settle before moving the clock.
    const hub: Hub = { ...created, handle: (request) => options.work.track(() => created.handle(request)) }
    const promise = <A>(f: () => Promise<A>) => Effect.promise(() => options.work.track(f))

    const backend: GitHubBackend = {
      forUser: (user) =>
        Effect.map(gitHubBackend(hub, user, { repository: SIM_REPOSITORY, branch: SKYGIT_BRANCH }), (s) => ({
          presence: s.presence(options.presence),
          repo: s.repo
        }))
    }

    // Reads the way a client would, as the auditor (not counted in the figures).
    const audit = (path: string, accept = "application/vnd.github+json") =>
      promise(async () => {
        const r = await hub.handle(new Request(`${ORIGIN}${path}`, { headers: { authorization: `token ${tokens[AUDITOR]!}`, accept } }))
        if (r.status !== 200) throw new Error(`audit ${path}: HTTP ${r.status}`)
        return accept.includes("raw") ? r.text() : ((await r.json()) as unknown)
      })

    const history = promise(() => hub.git.log(SIM_REPOSITORY, SKYGIT_BRANCH)).pipe(
      // The branch starts at the default branch's head: keep only SkyGit's own commits, oldest first.
      Effect.map((newestFirst) => [...newestFirst].reverse().filter((c) => c.paths.some((p) => p.startsWith(".messages/"))))
    )

    const figures: Effect.Effect<GitHubFigures> = Effect.gen(function* () {
      const stats = hub.stats()
      const commits: Array<GitHubFigures["commits"][number]> = []
      let presenceWrites = 0
      for (const c of yield* history) {
        if (c.paths.every((p) => p === PRESENCE_PATH)) {
          presenceWrites += 1
          continue
        }
        let at = log.commitTimes.get(c.sha)
        if (at === undefined) {
          const commit = (yield* audit(`/repos/${SIM_REPOSITORY}/git/commits/${c.sha}`)) as { committer: { date: string } }
          at = Date.parse(commit.committer.date)
        }
        const files: Array<{ path: string; content: string }> = []
        for (const path of c.paths) {
          if (parsePath(path)._tag === "None") continue
          const content = yield* audit(`/repos/${SIM_REPOSITORY}/contents/${path.split("/").map(encodeURIComponent).join("/")}?ref=${c.sha}`, "application/vnd.github.raw+json")
          files.push({ path, content: String(content) })
        }
        commits.push({ at, files })
      }
      return { users: options.users.map((u) => stats.users[u]!), commits, presenceWrites }
    }).pipe(Effect.orDie)

    const report = (base: SimReport): Effect.Effect<HubSimReport> =>
      Effect.gen(function* () {
        const stats = hub.stats()
        const hours = options.minutes / 60
        const own = yield* history
        const presence = own.filter((c) => c.paths.every((p) => p === PRESENCE_PATH)).length
        const onDefault = stats.repos[SIM_REPOSITORY]?.commits[DEFAULT_BRANCH] ?? 0
        const perHour = (n: number) => Math.round((n / hours) * 10) / 10
        const mutations = [...log.mutations.values()]
        const maxOf = (f: (m: Record<Mutation, number>) => number) => mutations.reduce((n, m) => Math.max(n, f(m)), 0)
        const sumOf = (f: (m: Record<Mutation, number>) => number) => mutations.reduce((n, m) => n + f(m), 0)
        return {
          ...base,
          hub: {
            repository: SIM_REPOSITORY,
            commits: { skygit: own.length, presence, conversations: own.length - presence, defaultBranch: onDefault },
            skygitCommitsPerHour: perHour(own.length),
            commitsWithoutSkipCi: own.filter((c) => !c.message.includes("[skip ci]")).length,
            maxUserRequestsPerHour: perHour(options.users.reduce((n, u) => Math.max(n, stats.users[u]?.requests ?? 0), 0)),
            secondaryLimitHits: log.secondary,
            primaryLimitHits: log.primary,
            casConflicts: log.conflicts,
            presencePuts: log.presencePuts,
            presenceConflicts: log.presenceConflicts,
            byOperation: Object.fromEntries([...log.operations.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
            discussion: {
              discussionsCreated: sumOf((m) => m.createDiscussion),
              commentsAdded: sumOf((m) => m.addDiscussionComment),
              commentEdits: sumOf((m) => m.updateDiscussionComment),
              commentsDeleted: sumOf((m) => m.deleteDiscussionComment),
              maxCommentEditsPerUserPerHour: perHour(maxOf((m) => m.updateDiscussionComment)),
              maxCommentsAddedPerUser: maxOf((m) => m.addDiscussionComment)
            }
          }
        } satisfies HubSimReport
      })

    return { hub, backend, figures, report }
  })

/** The simulation on the hub, as an Effect for `runVirtualAsync` with the same `work`. */
export const simulateOnHub = (options: SimOptions, work: ExternalWork, hubFaults: ReadonlyArray<string> = []): Effect.Effect<HubSimReport> =>
  Effect.gen(function* () {
    if (options.history > 0) return yield* Effect.dieMessage("--history is not supported with --github hub yet")
    const users = Array.from({ length: options.peers }, (_, i) => userName(i))
    const sim = yield* makeHubSimulation({ users, presence: options.presence, minutes: options.minutes, work, faults: hubFaults, seed: options.seed })
    const base = yield* simulate({ ...options, backend: sim.backend, figures: sim.figures })
    return yield* sim.report(base)
  }).pipe(
    // The adapters' retry schedules are jittered: a seeded Random keeps runs identical.
    Effect.withRandom(Random.make(options.seed))
  )

/** Runs `simulateOnHub` in virtual time; resolves to the report. */
export const runHubSimulation = (options: SimOptions, hubFaults: ReadonlyArray<string> = []): Promise<HubSimReport> => {
  const work = new ExternalWork()
  return runVirtualAsyncOrThrow(simulateOnHub(options, work, hubFaults), { work })
}
