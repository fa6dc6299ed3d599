/**
 * Before a session starts: whose token this is and which repositories it can reach.
 * Plain fetch with only CORS-safe headers, never answered from the browser's cache.
 */

/** A repository the token can use. */
export interface RepoChoice {
  /** "owner/name". */
  readonly fullName: string
  readonly private: boolean
  readonly canPush: boolean
  readonly hasDiscussions: boolean
}

/** Repositories listed per page; GitHub's maximum. */
const PER_PAGE = 100
/** Pages read at most (10,000 repositories is plenty for a picker). */
const MAX_PAGES = 100

const get = async (api: string, token: string, path: string): Promise<Response> => {
  const response = await fetch(`${api.replace(/\/+$/, "")}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
    cache: "no-store"
  })
  if (response.status === 401) throw new Error("The token was refused (401): check that it is valid and not expired.")
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text().catch(() => "")}`)
  return response
}

/** The login of the token's owner. */
export const whoAmI = async (api: string, token: string): Promise<string> => {
  const body = (await (await get(api, token, "/user")).json()) as { login?: unknown }
  if (typeof body.login !== "string") throw new Error("GET /user answered without a login")
  return body.login
}

/** Every repository the token can reach, following GitHub's pagination. */
export const listRepos = async (api: string, token: string): Promise<ReadonlyArray<RepoChoice>> => {
  const out: Array<RepoChoice> = []
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const response = await get(api, token, `/user/repos?per_page=${PER_PAGE}&page=${page}&sort=pushed`)
    const items = (await response.json()) as ReadonlyArray<{
      full_name: string
      private?: boolean
      permissions?: { push?: boolean }
      has_discussions?: boolean
    }>
    for (const r of items) {
      out.push({ fullName: r.full_name, private: r.private === true, canPush: r.permissions?.push !== false, hasDiscussions: r.has_discussions === true })
    }
    if (!/rel="next"/.test(response.headers.get("link") ?? "")) break
  }
  return out
}
