/** Placeholder replaced by the Discussions GraphQL implementation. */
import { ghError, type Ctx, type Reply } from "./http.js"

/** Answers `POST /graphql`. */
export const graphqlHandler = async (_ctx: Ctx): Promise<Reply> => ghError(501, "GraphQL not implemented yet")
