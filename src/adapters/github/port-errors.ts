/** GitHub failures as the ports' errors: a budget refusal is the one RateLimited, the rest keep the failure as their cause. */
import { RepoUnavailable } from "../../ports/ConversationRepo.js"
import type { RateLimited } from "../../ports/errors.js"
import { PresenceUnavailable } from "../../ports/Presence.js"
import { describe, type GitHubFailure, type GitHubMisconfigured } from "./errors.js"

/** A presence request's failure as a Presence port error. */
export const toPresenceError = (f: GitHubFailure | GitHubMisconfigured, what: string): RateLimited | PresenceUnavailable =>
  f._tag === "RateLimited" ? f : new PresenceUnavailable({ detail: f._tag === "GitHubMisconfigured" ? f.detail : describe(f, what), cause: f })

/** A repository request's failure as a ConversationRepo port error. */
export const toRepoError = (f: GitHubFailure | GitHubMisconfigured, what: string): RateLimited | RepoUnavailable =>
  f._tag === "RateLimited" ? f : new RepoUnavailable({ detail: f._tag === "GitHubMisconfigured" ? f.detail : describe(f, what), cause: f })
