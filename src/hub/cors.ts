/**
 * CORS as api.github.com does it: any origin, a fixed list of allowed request headers
 * (no `X-GitHub-Api-Version`), and the rate-limit and paging headers exposed.
 */

/** Request headers GitHub's preflight allows. */
export const ALLOWED_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "If-Match",
  "If-Modified-Since",
  "If-None-Match",
  "If-Unmodified-Since",
  "Accept-Encoding",
  "X-GitHub-OTP",
  "X-Requested-With",
  "User-Agent"
] as const

/** Response headers GitHub lets browser code read. */
export const EXPOSED_HEADERS = [
  "ETag",
  "Link",
  "Location",
  "Retry-After",
  "X-GitHub-OTP",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Used",
  "X-RateLimit-Resource",
  "X-RateLimit-Reset",
  "X-OAuth-Scopes",
  "X-Accepted-OAuth-Scopes",
  "X-Poll-Interval",
  "X-GitHub-Media-Type",
  "X-GitHub-SSO",
  "X-GitHub-Request-Id",
  "Deprecation",
  "Sunset"
] as const

/** How long browsers may cache a preflight answer (GitHub's value). */
export const PREFLIGHT_MAX_AGE_SECONDS = 86_400

const allowed = new Set(ALLOWED_REQUEST_HEADERS.map((h) => h.toLowerCase()))

/** Headers on every response. */
export const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": EXPOSED_HEADERS.join(", ")
}

/** GitHub's answer to a preflight: the same static allow list whatever was asked. */
export const preflight = (): Response =>
  new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders,
      "access-control-allow-headers": ALLOWED_REQUEST_HEADERS.join(", "),
      "access-control-allow-methods": "GET, POST, PATCH, PUT, DELETE",
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
      vary: "Accept-Encoding, Accept, X-Requested-With"
    }
  })

/** Whether a browser would send these request headers after GitHub's preflight. */
export const preflightAllows = (requestHeaders: ReadonlyArray<string>): boolean =>
  requestHeaders.every((h) => allowed.has(h.trim().toLowerCase()) || h.trim().toLowerCase() === "accept" || h.trim() === "")

/**
 * A custom header a browser request (one with `Origin`) carries that GitHub's preflight
 * would have refused. Browsers never send such requests; the hub refuses them so a
 * browser-mode client running in Node finds the problem in tests.
 */
export const refusedBrowserHeader = (request: Request): string | undefined => {
  if (request.headers.get("origin") === null) return undefined
  for (const [name] of request.headers) {
    if (name.startsWith("x-") && !allowed.has(name)) return name
  }
  return undefined
}
