/**
 * The WebRTC transport in Node, on @roamhq/wrtc (libwebrtc bindings with the W3C API).
 */
import wrtc from "@roamhq/wrtc"
import type { RtcGlobals } from "./transport.js"

/** @roamhq/wrtc's globals. It has no `generateCertificate`, so sessions use a signing identity. */
export const nodeRtc: RtcGlobals = { RTCPeerConnection: wrtc.RTCPeerConnection as unknown as RtcGlobals["RTCPeerConnection"] }
