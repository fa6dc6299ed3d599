/** A local hub served over real HTTP on 127.0.0.1:0, and GitHub clients of its users, as scoped Effects. */
import { Effect, Fiber, TestClock, type Scope, type TestServices } from "effect"
import { githubLimits, type GitHubLimits } from "../../src/domain/budget.js"
import { makeGitHubClient, type GitHubClient } from "../../src/adapters/github/client.js"
import { createHub, serveHub, type Exchange, type Hub, type RepoSpec } from "../../src/hub/index.js"

/** Everyone the tests act as. */
export const USERS = ["alice", "bob", "carol", "dave", "mallory"] as const
/** The repository every test works on. */
export const OWNER = "demo"
export const NAME = "chat"
export const REPO = `${OWNER}/${NAME}`
/** GitHub's limits without the 1 s spacing between writes, so contract suites stay fast. */
export const FAST_LIMITS: GitHubLimits = { ...githubLimits, minWriteSpacingMs: 0 }

/** A served hub. */
export interface ServedHub {
  readonly hub: Hub
  readonly url: string
  /** Every exchange the hub answered, for the conformance check. */
  readonly exchanges: ReadonlyArray<Exchange>
  /** A client of `user` on demo/chat over HTTP. */
  readonly client: (user: string, limits?: GitHubLimits) => Effect.Effect<GitHubClient>
}

/** A hub for USERS hosting demo/chat (or `repos`), closed when the scope ends. */
export const servedHub = (
  options: { readonly repos?: ReadonlyArray<RepoSpec>; readonly limits?: GitHubLimits; readonly faults?: ReadonlyArray<string> } = {}
): Effect.Effect<ServedHub, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const hub = await createHub({
        users: [...USERS],
        repos: options.repos ?? [REPO],
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        ...(options.faults === undefined ? {} : { faults: options.faults })
      })
      const exchanges: Array<Exchange> = []
      hub.onExchange((e) => exchanges.push(e))
      const server = await serveHub(hub, { port: 0 })
      return { hub, server, exchanges }
    }),
    ({ server }) => Effect.promise(() => server.close())
  ).pipe(
    Effect.map(({ hub, server, exchanges }) => ({
      hub,
      url: server.url,
      exchanges,
      client: (user: string, limits: GitHubLimits = FAST_LIMITS) =>
        makeGitHubClient({ baseUrl: server.url, token: hub.tokenOf(user), userAgent: "skygit-test", owner: OWNER, repo: NAME, limits })
    }))
  )

/** Lets the hub's real I/O settle, then moves the test clock by `stepMs`, until `fiber` is done (at most `steps` times). */
export const driveUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, stepMs = 250, steps = 1_000): Effect.Effect<A, E, TestServices.TestServices> =>
  Effect.gen(function* () {
    for (let i = 0; i < steps; i++) {
      if ((yield* Fiber.poll(fiber))._tag === "Some") break
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 2)))
      yield* TestClock.adjust(stepMs)
    }
    return yield* Fiber.join(fiber)
  })
