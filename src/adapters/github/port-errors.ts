/** GitHub failures as the ports' errors: budget refusals keep their timing, the rest keep status and message. */
import { RepoRateLimited, RepoUnavailable } from "../../ports/ConversationRepo.js"
import { PresenceRateLimited, PresenceUnavailable } from "../../ports/Presence.js"
import { describe, type GitHubFailure, type GitHubMisconfigured } from "./errors.js"

/** A presence request's failure as a Presence port error. */
export const toPresenceError = (f: GitHubFailure | GitHubMisconfigured, what: string): PresenceRateLimited | PresenceUnavailable =>
  f._tag === "GitHubRateLimited"
    ? new PresenceRateLimited({ limit: f.limit, retryAfterMs: f.retryAfterMs })
    : new PresenceUnavailable({ detail: f._tag === "GitHubMisconfigured" ? f.detail : describe(f, what) })

/** A repository request's failure as a ConversationRepo port error. */
export const toRepoError = (f: GitHubFailure | GitHubMisconfigured, what: string): RepoRateLimited | RepoUnavailable =>
  f._tag === "GitHubRateLimited"
    ? new RepoRateLimited({ limit: f.limit, retryAfterMs: f.retryAfterMs })
    : new RepoUnavailable({ detail: f._tag === "GitHubMisconfigured" ? f.detail : describe(f, what) })
