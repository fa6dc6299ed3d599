/**
 * The WebRTC transport in Node, on @roamhq/wrtc (libwebrtc bindings with the W3C API).
 */
import wrtc from "@roamhq/wrtc"
import type { Layer } from "effect"
import type { PeerTransport } from "../../ports/PeerTransport.js"
import { layerWebRtc, type RtcGlobals, type WebRtcOptions, type WebRtcSetupError } from "./transport.js"

/** @roamhq/wrtc's globals. It has no `generateCertificate`, so sessions use a signing identity. */
export const nodeRtc: RtcGlobals = { RTCPeerConnection: wrtc.RTCPeerConnection as unknown as RtcGlobals["RTCPeerConnection"] }

/** The PeerTransport on @roamhq/wrtc. */
export const layerNode = (options: Omit<WebRtcOptions, "rtc">): Layer.Layer<PeerTransport, WebRtcSetupError> =>
  layerWebRtc({ ...options, rtc: nodeRtc })
