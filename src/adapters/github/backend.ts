/**
 * The GitHub adapters wired to an in-process hub (its fetch-style `handle`), for the
 * simulator's `--github hub`: real Octokit requests, counted by the hub, no sockets.
 */
import { Effect } from "effect"
import type { GitHubLimits } from "../../domain/budget.js"
import type { ConversationRepoService } from "../../ports/ConversationRepo.js"
import type { PresenceService } from "../../ports/Presence.js"
import { makeGitHubClient, type GitHubClient } from "./client.js"
import { makeGitHubConversationRepo } from "./conversation-repo.js"
import { makeGitHubDiscussionPresence } from "./discussion-presence.js"
import { makeGitHubFilePresence } from "./file-presence.js"

/** What the backend needs of a hub (structurally `Hub` from src/hub). */
export interface InProcessHub {
  readonly handle: (request: Request) => Promise<Response>
  readonly tokenOf: (user: string) => string
}

/** Where the services work. */
export interface GitHubBackendOptions {
  /** "owner/name". */
  readonly repository: string
  /** SkyGit's branch; default `skygit`. */
  readonly branch?: string
  /** Budgets the clients plan with (the hub's, normally). */
  readonly limits?: GitHubLimits
  /** A token other than the user's first one (another tab shares the user's budget). */
  readonly token?: string
  /** Origin the requests are addressed to; never contacted. */
  readonly baseUrl?: string
}

/** One user's GitHub-backed services; both forms of presence share the user's client (and budget). */
export interface GitHubBackendServices {
  readonly presence: (form: "file" | "discussion") => PresenceService
  readonly repo: ConversationRepoService
  /** The client, for its budget view (`gate`). */
  readonly client: GitHubClient
}

/** The in-process hub's origin as the requests name it. */
export const IN_PROCESS_ORIGIN = "http://hub.invalid"

/** The services of `user` on `hub`, every request going through `hub.handle`. */
export const gitHubBackend = (hub: InProcessHub, user: string, options: GitHubBackendOptions): Effect.Effect<GitHubBackendServices> =>
  Effect.gen(function* () {
    const [owner, repo] = options.repository.split("/")
    if (owner === undefined || repo === undefined) return yield* Effect.dieMessage(`repository must be "owner/name", got ${options.repository}`)
    const client = yield* makeGitHubClient({
      baseUrl: options.baseUrl ?? IN_PROCESS_ORIGIN,
      token: options.token ?? hub.tokenOf(user),
      userAgent: "skygit-sim",
      owner,
      repo,
      fetch: (url, init) => hub.handle(new Request(url, init)),
      ...(options.limits === undefined ? {} : { limits: options.limits })
    })
    const branch = options.branch === undefined ? {} : { branch: options.branch }
    const file = yield* makeGitHubFilePresence(client, branch)
    const discussion = yield* makeGitHubDiscussionPresence(client)
    const conversations = yield* makeGitHubConversationRepo(client, branch)
    return { presence: (form) => (form === "file" ? file : discussion), repo: conversations, client }
  })
