/** The PeerTransport contract against the WebRTC adapter on @roamhq/wrtc (every transport in this process). */
import { Effect } from "effect"
import { nodeRtc } from "../../src/adapters/webrtc/node.js"
import { makeWebRtcTransport, type WebRtcInternalsService } from "../../src/adapters/webrtc/transport.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { peerTransportContract } from "../contract/peer-transport.contract.js"

peerTransportContract(
  "WebRTC (@roamhq/wrtc)",
  Effect.sync(() => {
    // Internals by session, so a raw frame can be put on the sender's own channel.
    const internals = new Map<string, WebRtcInternalsService>()
    return {
      transport: (self: PeerId) =>
        Effect.map(makeWebRtcTransport({ self, rtc: nodeRtc }), (t) => {
          internals.set(peerKey(self), t.internals)
          return t.transport
        }),
      injectRaw: (from: PeerId, to: PeerId, text: string) => {
        const sender = internals.get(peerKey(from))
        return sender === undefined ? Effect.dieMessage(`no transport for ${peerKey(from)}`) : sender.sendRaw(to, text)
      }
    }
  })
)
