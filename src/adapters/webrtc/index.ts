/**
 * WebRTC adapter of the PeerTransport port; platform globals come from `node.ts` or `browser.ts`.
 */
export * from "./transport.js"
export * from "./tuning.js"
export { MAX_FRAME_BYTES, MAX_PENDING_MESSAGES, MAX_CHUNKS_PER_MESSAGE } from "./framing.js"
