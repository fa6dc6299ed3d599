/**
 * The Octokit instance SkyGit talks through, to github.com, the local hub over HTTP, or
 * the hub in-process (pass `fetch: (url, init) => hub.handle(new Request(url, init))`).
 * No throttling/retry plugins: their timers are not Effect's, so retries and backoff live
 * in `client.ts` as Schedules the simulator can drive under TestClock.
 */
import { Octokit } from "@octokit/rest"

/** How to reach GitHub (or something that speaks its API). */
export interface OctokitOptions {
  /** `https://api.github.com`, or the hub's URL. */
  readonly baseUrl: string
  readonly token: string
  readonly userAgent: string
  /** A fetch to use instead of the global one (the hub's in-process handler). */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>
}

/** Browsers' CORS preflight at api.github.com refuses this header; it is never sent. */
export const REFUSED_HEADER = "x-github-api-version"

// Octokit logs every 4xx; SkyGit maps them to typed errors instead.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/**
 * A fetch that never sends the refused header and never lets a browser's HTTP cache
 * answer (GitHub says `max-age=60`): polling revalidates with its own `If-None-Match`.
 */
export const revalidatingFetch =
  (inner: (url: string, init: RequestInit) => Promise<Response>) =>
  (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.delete(REFUSED_HEADER)
    return inner(url, { ...init, headers, cache: "no-store" })
  }

/** An Octokit for one token; every request goes through `revalidatingFetch`. */
export const makeOctokit = (options: OctokitOptions): Octokit => {
  const inner = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init))
  return new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: options.userAgent,
    log: quiet,
    request: { fetch: revalidatingFetch(inner) }
  })
}
