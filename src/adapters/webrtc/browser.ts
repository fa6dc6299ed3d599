/**
 * The WebRTC transport in a browser page, on its own globals.
 */
import type { Layer } from "effect"
import type { PeerTransport } from "../../ports/PeerTransport.js"
import { layerWebRtc, type RtcGlobals, type WebRtcOptions, type WebRtcSetupError } from "./transport.js"

/** A page's WebRTC globals (pass `globalThis`); browsers pin one certificate per session. */
export const browserRtc = (global: { readonly RTCPeerConnection: typeof RTCPeerConnection }): RtcGlobals => ({
  RTCPeerConnection: global.RTCPeerConnection
})

/** The PeerTransport on the page's RTCPeerConnection. */
export const layerBrowser = (
  options: Omit<WebRtcOptions, "rtc">,
  global: { readonly RTCPeerConnection: typeof RTCPeerConnection } = globalThis
): Layer.Layer<PeerTransport, WebRtcSetupError> => layerWebRtc({ ...options, rtc: browserRtc(global) })
