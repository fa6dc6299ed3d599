/**
 * Keeps the hub (and SkyGit's GitHub adapters) honest: REST exchanges are checked against
 * GitHub's published OpenAPI description (@octokit/openapi) and GraphQL documents against
 * GitHub's published schema (@octokit/graphql-schema). Each check returns a list of problems.
 */
import { readFileSync } from "node:fs"
import { parse, validate, type GraphQLError } from "graphql"
import { githubSchema, packageFile } from "./graphql-github.js"
import type { Exchange } from "./handler.js"

/** A JSON-schema node as OpenAPI 3.0 writes them (the keywords GitHub's description uses). */
interface Schema {
  readonly $ref?: string
  readonly type?: string | ReadonlyArray<string>
  readonly nullable?: boolean
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: Schema
  readonly additionalProperties?: boolean | Schema
  readonly enum?: ReadonlyArray<unknown>
  readonly oneOf?: ReadonlyArray<Schema>
  readonly anyOf?: ReadonlyArray<Schema>
  readonly allOf?: ReadonlyArray<Schema>
  readonly format?: string
}

interface Operation {
  readonly template: string
  readonly pattern: RegExp
  readonly literalLength: number
  readonly responses: Readonly<Record<string, { readonly $ref?: string; readonly content?: Record<string, { readonly schema?: Schema }> }>>
}

interface OpenApi {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation["responses"] | unknown>>>>
  readonly components: unknown
}

/** Path parameters that may contain slashes in GitHub's API. */
const SLASHED_PARAMS = new Set(["path", "ref", "basehead", "tree_sha"])
/** Stops runaway recursion on self-referencing schemas. */
const MAX_DEPTH = 64
/**
 * Answers GitHub gives on any endpoint (bad JSON, bad credentials, rate limits, outages)
 * though its description lists them for some operations only; they must still be basic errors.
 */
const UNIVERSAL_STATUSES = new Set([400, 401, 403, 429, 500, 502, 503])
const BASIC_ERROR: Schema = { $ref: "#/components/schemas/basic-error" }

/** Reports are capped: one broken list must not produce thousands of lines. */
const MAX_PROBLEMS = 20

let spec: { readonly doc: OpenApi; readonly ops: Map<string, Array<Operation>> } | undefined

const load = () => {
  if (spec !== undefined) return spec
  const doc = JSON.parse(readFileSync(packageFile("@octokit/openapi", "generated/api.github.com.json"), "utf8")) as OpenApi
  const ops = new Map<string, Array<Operation>>()
  for (const [template, methods] of Object.entries(doc.paths)) {
    const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => (SLASHED_PARAMS.has(name) ? "(.+)" : "([^/]+)"))
    const pattern = new RegExp(`^${source}$`)
    const literalLength = template.replace(/\{\w+\}/g, "").length
    for (const [method, op] of Object.entries(methods)) {
      const responses = (op as { responses?: Operation["responses"] }).responses
      if (responses === undefined) continue
      const list = ops.get(method.toUpperCase()) ?? []
      list.push({ template, pattern, literalLength, responses })
      ops.set(method.toUpperCase(), list)
    }
  }
  spec = { doc, ops }
  return spec
}

const deref = <A>(doc: OpenApi, node: A): A => {
  let n = node as unknown as { $ref?: string }
  while (n !== null && typeof n === "object" && typeof n.$ref === "string") {
    let target: unknown = doc
    for (const key of n.$ref.replace(/^#\//, "").split("/")) target = (target as Record<string, unknown>)[key]
    n = target as { $ref?: string }
  }
  return n as unknown as A
}

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v

const typeMatches = (want: string, got: string): boolean => want === got || (want === "number" && got === "integer")

/** Problems of `value` against `schema` (empty when it conforms). oneOf is checked as anyOf: GitHub's alternatives overlap. */
export const checkSchema = (doc: OpenApi, schemaIn: Schema, value: unknown, at = "body", depth = 0): Array<string> => {
  if (depth > MAX_DEPTH) return []
  const schema = deref(doc, schemaIn)
  const problems: Array<string> = []
  if (value === null && schema.nullable === true) return []
  if (schema.allOf !== undefined) for (const s of schema.allOf) problems.push(...checkSchema(doc, s, value, at, depth + 1))
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives !== undefined) {
    const results = alternatives.map((s) => checkSchema(doc, s, value, at, depth + 1))
    if (!results.some((r) => r.length === 0)) {
      const best = results.reduce((a, b) => (b.length < a.length ? b : a))
      problems.push(`${at}: matches none of ${alternatives.length} alternatives; closest: ${best.slice(0, 3).join("; ")}`)
    }
  }
  const types = schema.type === undefined ? [] : typeof schema.type === "string" ? [schema.type] : schema.type
  const got = typeOf(value)
  if (types.length > 0 && !types.some((t) => typeMatches(t, got))) {
    return [...problems, `${at}: expected ${types.join("|")}${schema.nullable === true ? "|null" : ""}, got ${got}`]
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  if (schema.format === "date-time" && typeof value === "string" && Number.isNaN(Date.parse(value))) problems.push(`${at}: not a date-time: ${value}`)
  if (got === "object") {
    const obj = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${at}: missing required property ${key}`)
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key]
      if (prop !== undefined) problems.push(...checkSchema(doc, prop, v, `${at}.${key}`, depth + 1))
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${key}`)
      else if (typeof schema.additionalProperties === "object") problems.push(...checkSchema(doc, schema.additionalProperties, v, `${at}.${key}`, depth + 1))
    }
  }
  if (got === "array" && schema.items !== undefined) {
    ;(value as Array<unknown>).forEach((v, i) => problems.push(...checkSchema(doc, schema.items!, v, `${at}[${i}]`, depth + 1)))
  }
  return problems.slice(0, MAX_PROBLEMS)
}

/** The OpenAPI path template GitHub documents for a method and URL path, if any. */
export const operationTemplate = (method: string, path: string): string | undefined => findOperation(method, path)?.template

const findOperation = (method: string, path: string): Operation | undefined => {
  const candidates = (load().ops.get(method.toUpperCase()) ?? []).filter((o) => o.pattern.test(path))
  return candidates.sort((a, b) => b.literalLength - a.literalLength)[0]
}

/**
 * Problems of one REST exchange against GitHub's OpenAPI description: the operation exists,
 * the status is documented for it, and a JSON body matches that status's schema.
 */
export const checkRestExchange = (
  method: string,
  url: string,
  status: number,
  body: unknown,
  options: { readonly contentType?: string; readonly accept?: string } = {}
): ReadonlyArray<string> => {
  const contentType = options.contentType ?? "application/json"
  const { doc } = load()
  const path = new URL(url, "http://hub.invalid").pathname
  const op = findOperation(method, path)
  if (op === undefined) return [`${method} ${path}: no such operation in GitHub's REST API`]
  const where = `${method} ${op.template} ${status}`
  const declared = op.responses[String(status)] ?? op.responses["default"]
  if (declared === undefined && UNIVERSAL_STATUSES.has(status)) {
    return checkSchema(doc, BASIC_ERROR, body).map((p) => `${where}: ${p}`)
  }
  if (declared === undefined) return [`${where}: status not documented (documented: ${Object.keys(op.responses).join(", ")})`]
  if (!contentType.includes("json") || status === 204 || status === 304) return []
  const content = deref(doc, declared).content ?? {}
  // A custom media type the request asked for (e.g. vnd.github.object) has its own documented schema.
  const accept = (options.accept ?? "").replace(/vnd\.github\.v3\./g, "vnd.github.")
  const media = Object.keys(content).find((m) => m !== "application/json" && accept.includes(m))
  const schema = content[media ?? "application/json"]?.schema
  if (schema === undefined) return body === undefined || body === null || body === "" ? [] : [`${where}: GitHub documents no JSON body for this status`]
  return checkSchema(doc, schema, body).map((p) => `${where}: ${p}`)
}

/** Problems of a GraphQL document against GitHub's published schema (parse and validation errors). */
export const checkGraphqlDocument = (query: string): ReadonlyArray<string> => {
  try {
    return validate(githubSchema(), parse(query)).map((e) => e.message)
  } catch (e) {
    return [(e as GraphQLError).message]
  }
}

/**
 * Problems of everything a hub answered (record with `hub.onExchange`): REST bodies against
 * the OpenAPI description, executed GraphQL documents against GitHub's schema. Scripted answers
 * (faults, CORS emulation) and documents the hub refused are skipped: they are deliberate.
 */
export const exchangeProblems = (exchanges: ReadonlyArray<Exchange>): ReadonlyArray<string> =>
  exchanges
    .filter((e) => e.source === "hub")
    .flatMap((e) => {
      if (new URL(e.url).pathname === "/graphql") {
        const body = e.responseBody as { data?: unknown } | undefined
        const query = (e.requestBody as { query?: unknown } | undefined)?.query
        return body?.data !== undefined && typeof query === "string" ? checkGraphqlDocument(query) : []
      }
      return checkRestExchange(e.method, e.url, e.status, e.responseBody, {
        contentType: e.responseHeaders["content-type"] ?? "",
        accept: e.requestHeaders["accept"] ?? ""
      })
    })
