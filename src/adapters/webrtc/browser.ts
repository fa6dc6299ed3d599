/**
 * The WebRTC transport in a browser page, on its own globals.
 */
import type { RtcGlobals } from "./transport.js"

/** A page's WebRTC globals (pass `globalThis`); browsers pin one certificate per session. */
export const browserRtc = (global: { readonly RTCPeerConnection: typeof RTCPeerConnection }): RtcGlobals => ({
  RTCPeerConnection: global.RTCPeerConnection
})
