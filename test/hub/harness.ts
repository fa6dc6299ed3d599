/** Starts a hub over real HTTP and gives Octokit clients for its users; records every exchange. */
import { Octokit } from "@octokit/rest"
import { afterAll, expect } from "vitest"
import { exchangeProblems } from "../../src/hub/conformance.js"
import { createHub, serveHub, type Exchange, type Hub, type HubOptions } from "../../src/hub/index.js"

/** Every exchange any test in this process made through a harness hub (the conformance test reads it). */
export const recorded: Array<Exchange> = []

// Octokit logs every 4xx; the tests provoke many on purpose.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/** Conformance problems of hub-made answers (the shared checker the adapters' contract suites use too). */
export const conformanceProblems = exchangeProblems

// Every test file using the harness also proves that everything the hub answered it is GitHub-shaped.
afterAll(() => {
  expect(conformanceProblems(recorded)).toEqual([])
}, 60_000)

/** A served hub with clients. */
export interface Served {
  readonly hub: Hub
  readonly url: string
  readonly client: (user: string, token?: string) => Octokit
  readonly close: () => Promise<void>
}

/** A hub for alice, bob and carol hosting demo/chat, served on an ephemeral port. */
export const serve = async (options: Partial<HubOptions> = {}): Promise<Served> => {
  const hub = await createHub({ users: ["alice", "bob", "carol"], repos: ["demo/chat"], ...options })
  hub.onExchange((e) => recorded.push(e))
  const server = await serveHub(hub, { port: 0 })
  return {
    hub,
    url: server.url,
    client: (user, token) => new Octokit({ auth: token ?? hub.tokenOf(user), baseUrl: server.url, log: quiet }),
    close: server.close
  }
}

/** The status of a failed Octokit call (throws if it succeeded). */
export const statusOf = async (p: Promise<unknown>): Promise<{ status: number; headers: Record<string, string | undefined>; message: string }> => {
  try {
    await p
  } catch (e) {
    const err = e as { status: number; response?: { headers: Record<string, string | undefined> }; message: string }
    return { status: err.status, headers: err.response?.headers ?? {}, message: err.message }
  }
  throw new Error("expected the request to fail")
}

/** Base64 of UTF-8 text. */
export const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64")
/** UTF-8 text of base64. */
export const unb64 = (s: string): string => Buffer.from(s, "base64").toString("utf8")
