/**
 * The shapes of the GitHub REST answers SkyGit reads, as Schemas: every response is decoded
 * through one of these by the client (`request(route, params, schema)`), so an answer of
 * another shape is a typed GitHubMalformedResponse, never a crash deeper in. Only the fields
 * SkyGit uses are named; GitHub's other fields are ignored. The GraphQL answers' shapes sit
 * beside their documents in `discussion-queries.ts`.
 */
import { Schema } from "effect"

/** An answer whose body SkyGit does not use (a ref created or moved, a comment deleted). */
export const Ignored = Schema.Unknown

/** Something with a sha: a created tree, a created commit. */
export const WithSha = Schema.Struct({ sha: Schema.String })

/** `GET /repos/{owner}/{repo}`: the default branch and, for this token, push access. */
export const Repository = Schema.Struct({
  default_branch: Schema.String,
  permissions: Schema.optional(Schema.Struct({ push: Schema.optional(Schema.Boolean) }))
})

/** `GET /repos/{owner}/{repo}/contents/{path}` of a file: inline base64 content up to 1 MB, `encoding: "none"` past it. */
export const ContentsFile = Schema.Struct({
  sha: Schema.String,
  size: Schema.optional(Schema.Number),
  content: Schema.optional(Schema.String),
  encoding: Schema.optional(Schema.String)
})
export type ContentsFile = typeof ContentsFile.Type

/** `PUT /repos/{owner}/{repo}/contents/{path}`: the new blob and the commit that holds it. */
export const ContentsWritten = Schema.Struct({
  content: Schema.Struct({ sha: Schema.String }),
  commit: Schema.optional(Schema.Struct({ sha: Schema.String }))
})

/** `GET /repos/{owner}/{repo}/git/ref/{ref}`. */
export const GitRef = Schema.Struct({ object: Schema.Struct({ sha: Schema.String }) })

/** `GET /repos/{owner}/{repo}/git/trees/{tree_sha}` (one level). */
export const GitTree = Schema.Struct({
  sha: Schema.String,
  tree: Schema.Array(Schema.Struct({ path: Schema.String, type: Schema.String, sha: Schema.String }))
})

/** `GET /repos/{owner}/{repo}/git/blobs/{file_sha}`: base64 content. */
export const GitBlob = Schema.Struct({ content: Schema.String, encoding: Schema.optional(Schema.String) })

/** `GET /user`. */
export const User = Schema.Struct({ login: Schema.String })

/** One repository of `GET /user/repos`. */
export const RepoListItem = Schema.Struct({
  full_name: Schema.String,
  private: Schema.optional(Schema.Boolean),
  permissions: Schema.optional(Schema.Struct({ push: Schema.optional(Schema.Boolean) })),
  has_discussions: Schema.optional(Schema.Boolean)
})

/** `GET /user/repos`: one page. */
export const RepoList = Schema.Array(RepoListItem)

/** The body of a refusal (REST), when GitHub sent its usual `{ message }`. */
export const ErrorBody = Schema.Struct({ message: Schema.String })

/** A GraphQL answer's envelope: `data`, and `errors` (even with HTTP 200). */
export const GraphQLEnvelope = Schema.Struct({
  data: Schema.optional(Schema.Unknown),
  errors: Schema.optional(Schema.Array(Schema.Struct({ type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })))
})

/** What Octokit throws for a refused or failed request. */
export const OctokitFailure = Schema.Struct({
  message: Schema.optional(Schema.String),
  response: Schema.optional(Schema.Struct({ status: Schema.Number, headers: Schema.optional(Schema.Unknown), data: Schema.optional(Schema.Unknown) }))
})
