/** The GitHub adapters: client, presence (file and Discussion form), conversation repository, simulator backend. */
export { makeOctokit, REFUSED_HEADER, type OctokitOptions } from "./octokit.js"
export { makeGitHubClient, type GitHubClient, type GitHubClientOptions, type GitHubResponse, type RequestKind } from "./client.js"
export { DEFAULT_SKYGIT_BRANCH, SKIP_CI } from "./branch.js"
export { layerGitHubFilePresence, makeGitHubFilePresence, type FilePresenceOptions } from "./file-presence.js"
export { layerGitHubDiscussionPresence, makeGitHubDiscussionPresence } from "./discussion-presence.js"
export { layerGitHubConversationRepo, makeGitHubConversationRepo, type ConversationRepoOptions } from "./conversation-repo.js"
export { gitHubBackend, type GitHubBackendOptions, type GitHubBackendServices, type InProcessHub } from "./backend.js"
