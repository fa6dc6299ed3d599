/**
 * When a description may go out before ICE gathering completes (src/adapters/webrtc/gathering.ts).
 */
import { describe, expect, it } from "vitest"
import { candidateTypesIn, expectedCandidateTypes, holdsExpected } from "../../src/adapters/webrtc/gathering.js"

const sdp = [
  "v=0",
  "a=candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host generation 0",
  "a=candidate:2 1 udp 1686052607 100.64.1.2 50000 typ srflx raddr 192.168.1.2 rport 50000 generation 0",
  "a=candidate:3 1 udp 41885439 198.18.0.1 49160 typ relay raddr 100.64.1.2 rport 50000 generation 0",
  "a=end-of-candidates"
].join("\r\n")

describe("candidate types of a description", () => {
  it("reads each a=candidate line's typ", () => {
    expect([...candidateTypesIn(sdp)].sort()).toEqual(["host", "relay", "srflx"])
    expect([...candidateTypesIn("v=0\na=candidate:1 1 udp 1 10.0.0.1 1 typ host\n")]).toEqual(["host"])
  })

  it("ignores lines that are not candidates, and candidates without a known type", () => {
    expect(candidateTypesIn("v=0\r\na=ice-ufrag:abc typ relay\r\na=candidate:1 1 udp 1 10.0.0.1 1 typ bogus\r\na=candidate:1 1 udp 1 10.0.0.1 1\r\n").size).toBe(0)
    expect(candidateTypesIn("").size).toBe(0)
  })
})

describe("candidate types the ICE servers can give", () => {
  it("expects server-reflexive from STUN and relayed from TURN, whatever the case of the scheme", () => {
    expect([...expectedCandidateTypes({ iceServers: [{ urls: "stun:stun.example:3478" }] })]).toEqual(["srflx"])
    expect([...expectedCandidateTypes({ iceServers: [{ urls: ["TURN:turn.example:3478?transport=udp"], username: "u", credential: "c" }] })]).toEqual(["relay"])
    expect([...expectedCandidateTypes({ iceServers: [{ urls: "stuns:a" }, { urls: ["turns:b", "stun:c"] }] })].sort()).toEqual(["relay", "srflx"])
  })

  it("expects only relayed candidates in relay-only mode", () => {
    const both = { iceServers: [{ urls: "stun:a" }, { urls: "turn:b", username: "u", credential: "c" }] }
    expect([...expectedCandidateTypes({ ...both, iceTransportPolicy: "relay" })]).toEqual(["relay"])
    expect(expectedCandidateTypes({ iceServers: [{ urls: "stun:a" }], iceTransportPolicy: "relay" }).size).toBe(0)
  })

  it("expects nothing without servers, so gathering is never cut short", () => {
    expect(expectedCandidateTypes({}).size).toBe(0)
    expect(expectedCandidateTypes({ iceServers: [] }).size).toBe(0)
    expect(holdsExpected(new Set(), new Set(["host"]))).toBe(false)
  })

  it("holds the expected types only when every one is present", () => {
    const expected = expectedCandidateTypes({ iceServers: [{ urls: "stun:a" }, { urls: "turn:b", username: "u", credential: "c" }] })
    expect(holdsExpected(expected, new Set(["host", "srflx"]))).toBe(false)
    expect(holdsExpected(expected, new Set(["host", "relay"]))).toBe(false)
    expect(holdsExpected(expected, candidateTypesIn(sdp))).toBe(true)
  })
})
