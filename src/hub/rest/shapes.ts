/**
 * JSON bodies for accounts and repositories, with every field GitHub's OpenAPI
 * description marks required, so Octokit users and the conformance check see GitHub's shape.
 */
import { isoSeconds } from "../http.js"
import type { Account, RepoState } from "../state.js"

/** The web host links point at; never fetched, only printed. */
export const HTML_HOST = "https://github.com"

/** GitHub's `simple-user` for an account. */
export const simpleUser = (base: string, a: Account) => {
  const url = `${base}/users/${a.login}`
  return {
    login: a.login,
    id: a.id,
    node_id: Buffer.from(`04:${a.type}${a.id}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${a.id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `${HTML_HOST}/${a.login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: a.type,
    user_view_type: "private",
    site_admin: false
  }
}

/** GitHub's `private-user`: what `GET /user` answers for the token's owner. */
export const privateUser = (base: string, a: Account, ownedRepos: number, epoch: number) => ({
  ...simpleUser(base, a),
  name: a.login,
  company: null,
  blog: "",
  location: null,
  email: null,
  hireable: null,
  bio: null,
  twitter_username: null,
  notification_email: null,
  public_repos: 0,
  public_gists: 0,
  followers: 0,
  following: 0,
  created_at: isoSeconds(epoch),
  updated_at: isoSeconds(epoch),
  private_gists: 0,
  total_private_repos: ownedRepos,
  owned_private_repos: ownedRepos,
  disk_usage: 0,
  collaborators: 0,
  two_factor_authentication: true,
  plan: { name: "free", space: 976562499, collaborators: 0, private_repos: 10000 }
})

/** What the caller may do with a repository, and whether it is archived. */
export interface RepoAccess {
  readonly push: boolean
  readonly maintain: boolean
  readonly archived: boolean
}

/** GitHub's `full-repository` (also a valid `repository`) as `login` sees it. */
export const repoJson = (base: string, r: RepoState, login: string, pushedAt: number, access: RepoAccess = { push: true, maintain: false, archived: false }) => {
  const api = `${base}/repos/${r.fullName}`
  const html = `${HTML_HOST}/${r.fullName}`
  const admin = r.owner.login === login
  return {
    id: r.id,
    node_id: r.nodeId,
    name: r.name,
    full_name: r.fullName,
    private: true,
    owner: simpleUser(base, r.owner),
    html_url: html,
    description: null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: isoSeconds(r.createdAt),
    updated_at: isoSeconds(pushedAt),
    pushed_at: isoSeconds(pushedAt),
    git_url: `git://github.com/${r.fullName}.git`,
    ssh_url: `git@github.com:${r.fullName}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: r.discussionsEnabled,
    forks_count: 0,
    mirror_url: null,
    archived: access.archived,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: "private",
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: r.defaultBranch,
    // What the caller may do: `push: false` for a read-only collaborator, as GitHub reports it.
    permissions: { admin: admin && access.push, maintain: (admin || access.maintain) && access.push, push: access.push, triage: access.push, pull: true },
    network_count: 0,
    subscribers_count: 0
  }
}
