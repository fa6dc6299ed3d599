/**
 * GitHub's published GraphQL schema (@octokit/graphql-schema): every document the hub
 * receives is validated against it first, and refused with GitHub-shaped errors.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { createRequire } from "node:module"
import { buildSchema, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql"

let cached: GraphQLSchema | undefined

/** A file inside an installed package, found along Node's lookup path (the package's exports hide it). */
export const packageFile = (pkg: string, file: string): string => {
  for (const dir of createRequire(import.meta.url).resolve.paths(pkg) ?? []) {
    const candidate = join(dir, pkg, file)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(`${pkg}/${file} not found; is ${pkg} installed?`)
}

/** GitHub's schema, built once per process (about 0.3 s). */
export const githubSchema = (): GraphQLSchema => {
  if (cached === undefined) {
    const path = packageFile("@octokit/graphql-schema", "schema.graphql")
    // The published SDL repeats two enterprise fields; skip SDL validation rather than fail on them.
    cached = buildSchema(readFileSync(path, "utf8"), { assumeValidSDL: true })
  }
  return cached
}

/** One error as GitHub prints it. */
export interface GithubGraphqlError {
  readonly message: string
  readonly type?: string
  readonly path?: ReadonlyArray<string | number>
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>
  readonly extensions?: Record<string, unknown>
}

const UNDEFINED_FIELD = /^Cannot query field "([^"]+)" on type "([^"]+)"\./

/** A graphql-js error in GitHub's wording where GitHub's differs. */
export const githubError = (e: GraphQLError): GithubGraphqlError => {
  const locations = e.locations?.map((l) => ({ line: l.line, column: l.column }))
  const m = UNDEFINED_FIELD.exec(e.message)
  const base = {
    ...(e.path === undefined ? {} : { path: e.path }),
    ...(locations === undefined ? {} : { locations })
  }
  if (m !== null) {
    return { ...base, message: `Field '${m[1]}' doesn't exist on type '${m[2]}'`, extensions: { code: "undefinedField", typeName: m[2], fieldName: m[1] } }
  }
  const type = typeof e.extensions["type"] === "string" ? (e.extensions["type"] as string) : undefined
  return { ...base, ...(type === undefined ? {} : { type }), message: e.message }
}

/** Distinct documents whose validation is remembered: clients send the same few queries over and over. */
const PARSE_CACHE_SIZE = 256
const parsedQueries = new Map<string, { readonly document: DocumentNode } | { readonly errors: ReadonlyArray<GithubGraphqlError> }>()

/** The parsed document, or GitHub's errors when it does not parse or is invalid against GitHub's schema. */
export const parseForGithub = (query: string): { readonly document: DocumentNode } | { readonly errors: ReadonlyArray<GithubGraphqlError> } => {
  const known = parsedQueries.get(query)
  if (known !== undefined) return known
  const result = parseUncached(query)
  // Validating against GitHub's whole schema is the hub's most expensive step; documents are immutable.
  if (parsedQueries.size >= PARSE_CACHE_SIZE) parsedQueries.delete(parsedQueries.keys().next().value!)
  parsedQueries.set(query, result)
  return result
}

const parseUncached = (query: string): { readonly document: DocumentNode } | { readonly errors: ReadonlyArray<GithubGraphqlError> } => {
  let document: DocumentNode
  try {
    document = parse(query)
  } catch (e) {
    return { errors: [githubError(e as GraphQLError)] }
  }
  const errors = validate(githubSchema(), document)
  return errors.length > 0 ? { errors: errors.map(githubError) } : { document }
}
