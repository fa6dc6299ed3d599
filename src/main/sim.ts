/**
 * The simulator's room: the only place simulated peers' layers are chosen. A peer gets
 * GitHub-facing services from a backend (the in-memory GitHub, or the real GitHub adapters
 * wired to an in-process hub, its fetch-style `handle`: real Octokit requests, counted by
 * the hub, no sockets), the simulated network's transport and a memory store on its
 * device's storage, all cut off when its power goes (a crash).
 */
import { MessageSigner, type MessageSignerService } from "../ports/MessageSigner.js"
import { Effect, Layer } from "effect"
import { makeGitHubClient, type GitHubClient } from "../adapters/github/client.js"
import { makeGitHubConversationRepo } from "../adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../adapters/github/discussion-presence.js"
import { makeGitHubLobbyPresence } from "../adapters/presence-lobby-github.js"
import { makeConversationRepo } from "../adapters/memory/conversation-repo.js"
import type { MemoryGitHub } from "../adapters/memory/github-world.js"
import { makeMemoryStore, type MemoryStoreState } from "../adapters/memory/local-store.js"
import { makeDiscussionPresence, makeFilePresence } from "../adapters/memory/presence.js"
import type { GitHubLimits } from "../domain/budget.js"
import { ConversationRepo, RepoUnavailable, type ConversationRepoService } from "../ports/ConversationRepo.js"
import { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport, type PeerTransportService } from "../ports/PeerTransport.js"
import { Presence, PresenceUnavailable, type PresenceService } from "../ports/Presence.js"

/** One user's GitHub-facing services. */
export interface UserServices {
  readonly presence: PresenceService
  readonly repo: ConversationRepoService
}

/** Where simulated peers' GitHub traffic goes: the services of one user (each session gets its own). */
export interface GitHubBackend {
  readonly forUser: (user: string) => Effect.Effect<UserServices>
}

/** The in-memory GitHub as a backend. */
export const memoryBackend = (world: MemoryGitHub, form: "file" | "discussion"): GitHubBackend => ({
  forUser: (user) =>
    Effect.sync(() => ({
      presence: form === "file" ? makeFilePresence(world, user) : makeDiscussionPresence(world, user),
      repo: makeConversationRepo(world, user)
    }))
})

/** Whether a simulated peer's process runs; `afterCommit` runs once a commit of it has landed (a crash there). */
export interface Power {
  on: boolean
  afterCommit: (() => Effect.Effect<void>) | undefined
}

/** Cuts a service off when its peer's power is off, as a dead process would be. */
const guardPresence = (p: PresenceService, power: Power): PresenceService => {
  const dead = Effect.fail(new PresenceUnavailable({ detail: "this peer has crashed" }))
  return { ...p, publish: (c) => (power.on ? p.publish(c) : dead), read: Effect.suspend(() => (power.on ? p.read : dead)) }
}
const guardRepo = (r: ConversationRepoService, power: Power): ConversationRepoService => {
  const dead = Effect.fail(new RepoUnavailable({ detail: "this peer has crashed" }))
  return {
    head: Effect.suspend(() => (power.on ? r.head : dead)),
    readSince: (t) => (power.on ? r.readSince(t) : dead),
    exitBudget: r.exitBudget,
    writeOnExit: (files) =>
      power.on ? r.writeOnExit(files) : Effect.succeed(Effect.succeed(files.map((f) => ({ _tag: "Refused" as const, path: f.path, detail: "this peer has crashed" })))),
    conversations: Effect.suspend(() => (power.on ? r.conversations : dead)),
    readPage: (c, before) => (power.on ? r.readPage(c, before) : dead),
    commit: (b) =>
      power.on
        ? Effect.flatMap(r.commit(b), (landed) => (power.afterCommit === undefined ? Effect.succeed(landed) : Effect.zipRight(power.afterCommit(), dead)))
        : dead,
    ...(r.canPush === undefined ? {} : { canPush: Effect.suspend(() => (power.on ? r.canPush! : dead)) })
  }
}

/** The ports of one simulated peer. */
export const simPeerLayer = (
  github: UserServices,
  store: MemoryStoreState,
  transport: PeerTransportService,
  power: Power,
  /** Signs the peer's messages: the synchronous model of src/adapters/memory/signer.ts (virtual time). */
  signer: MessageSignerService
): Layer.Layer<Presence | ConversationRepo | LocalStore | PeerTransport | MessageSigner> =>
  Layer.mergeAll(
    Layer.succeed(Presence, guardPresence(github.presence, power)),
    Layer.succeed(ConversationRepo, guardRepo(github.repo, power)),
    Layer.succeed(LocalStore, makeMemoryStore(store)),
    Layer.succeed(PeerTransport, transport),
    Layer.succeed(MessageSigner, signer)
  )

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
    // File form with the lobby (a user who may not push joins through the presence Discussion), as the other rooms.
    const file = yield* makeGitHubLobbyPresence(client, branch)
    const discussion = yield* makeGitHubDiscussionPresence(client)
    const conversations = yield* makeGitHubConversationRepo(client, branch)
    return { presence: (form) => (form === "file" ? file : discussion), repo: conversations, client }
  })
