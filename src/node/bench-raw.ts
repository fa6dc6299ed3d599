/**
 * The native ceiling of one channel: a bare @roamhq/wrtc loop between this process (sender)
 * and one child process (receiver), with no SkyGit code on the path. It uses the frame size
 * the transport would pick (`frameBytesFor` of the negotiated `maxMessageSize`) and the
 * transport's buffer marks and poll period, so `throughputMBps / rawThroughputMBps` in
 * bench:net is SkyGit's cost over what the library can do on this machine in the same run.
 * Both ends run with the peers' V8 settings (heap.ts).
 *
 * Run as a script with `--raw-receiver`, it is the child.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import wrtc from "@roamhq/wrtc"
import { frameBytesFor } from "../adapters/webrtc/framing.js"
import { defaultTuning } from "../adapters/webrtc/tuning.js"
import { PEER_V8_FLAGS } from "./heap.js"

/** How long setting up the bare channel may take before the run fails. */
export const RAW_CONNECT_TIMEOUT_MS = 30_000
/** How long one bare transfer may take before the run fails. */
export const RAW_TRANSFER_TIMEOUT_MS = 120_000

/** What to send: `transfers` transfers of `bytes` each, on one channel. */
export interface RawBenchOptions {
  readonly bytes: number
  readonly transfers: number
}

/** What the bare loop measured. */
export interface RawBenchResult {
  readonly rawThroughputMBps: number
  readonly transferMBps: ReadonlyArray<number>
  readonly frameBytes: number
  readonly maxMessageSize: number | null
  readonly highWaterMark: number
  readonly lowWaterMark: number
  readonly bufferPollMs: number
}

type Signal = { readonly kind: "description"; readonly sdp: string; readonly type: RTCSdpType } | { readonly kind: "ready" }

const SELF = fileURLToPath(import.meta.url)

const gathered = (pc: RTCPeerConnection): Promise<void> =>
  new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState === "complete") resolve()
    }
    pc.addEventListener("icegatheringstatechange", check)
    check()
  })

const withTimeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
    p.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    )
  })

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0

/** Sends `bytes` in frames of `frame.byteLength`, the transport's way: burst to the high mark, poll down to the low one. */
const sendAll = (channel: RTCDataChannel, frame: Uint8Array<ArrayBuffer>, bytes: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const { highWaterMark, lowWaterMark, bufferPollMs } = defaultTuning
    let left = Math.ceil(bytes / frame.byteLength)
    let known = 0
    let limit = highWaterMark
    const burst = () => {
      try {
        while (left > 0) {
          if (known + frame.byteLength > limit) {
            known = channel.bufferedAmount
            if (known + frame.byteLength > limit) {
              limit = lowWaterMark
              setTimeout(burst, bufferPollMs)
              return
            }
          }
          limit = highWaterMark
          channel.send(frame)
          known += frame.byteLength
          left -= 1
        }
        resolve()
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    }
    burst()
  })

/** Runs the bare loop: spawns the receiver, connects, and measures `transfers` transfers. */
export const runRawBench = async (options: RawBenchOptions): Promise<RawBenchResult> => {
  // The same V8 settings as the peers it is compared with (importing heap.ts applied them here).
  const child: ChildProcess = spawn(process.execPath, [...PEER_V8_FLAGS, "--import", "tsx", SELF, "--raw-receiver"], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const pc = new wrtc.RTCPeerConnection()
  try {
    const channel = pc.createDataChannel("raw", { negotiated: true, id: 0, ordered: true })
    channel.binaryType = "arraybuffer"
    const opened = new Promise<void>((resolve) => (channel.onopen = () => resolve()))
    let onDone: (() => void) | undefined
    channel.onmessage = () => onDone?.()
    const answered = new Promise<RTCSessionDescriptionInit>((resolve, reject) => {
      child.on("message", (m: Signal) => {
        if (m.kind === "description") resolve({ type: m.type, sdp: m.sdp })
      })
      child.on("exit", (code) => reject(new Error(`raw receiver exited with ${code}`)))
    })
    await pc.setLocalDescription(await pc.createOffer())
    await gathered(pc)
    child.send({ kind: "description", type: "offer", sdp: pc.localDescription!.sdp } satisfies Signal)
    await pc.setRemoteDescription(await withTimeout(answered, RAW_CONNECT_TIMEOUT_MS, "the raw receiver's answer"))
    await withTimeout(opened, RAW_CONNECT_TIMEOUT_MS, "opening the raw channel")
    const maxMessageSize = (pc as { sctp?: { maxMessageSize?: number } | null }).sctp?.maxMessageSize ?? null
    const frameBytes = frameBytesFor(maxMessageSize)
    const frame = new Uint8Array(frameBytes).fill(0x78)
    const transferMBps: Array<number> = []
    for (let i = 0; i < options.transfers; i++) {
      // The receiver answers one small message once it has counted every byte of the transfer.
      const done = new Promise<void>((resolve) => (onDone = resolve))
      const total = Math.ceil(options.bytes / frameBytes) * frameBytes
      channel.send(JSON.stringify({ expect: total }))
      const start = performance.now()
      await sendAll(channel, frame, total)
      await withTimeout(done, RAW_TRANSFER_TIMEOUT_MS, "a raw transfer")
      transferMBps.push(Number((total / 1e6 / ((performance.now() - start) / 1000)).toFixed(1)))
    }
    const { highWaterMark, lowWaterMark, bufferPollMs } = defaultTuning
    return { rawThroughputMBps: median(transferMBps), transferMBps, frameBytes, maxMessageSize, highWaterMark, lowWaterMark, bufferPollMs }
  } finally {
    pc.close()
    child.kill("SIGKILL")
  }
}

/** The child: answers the offer, counts bytes, and says "done" when a transfer is complete. */
const receiver = () => {
  const pc = new wrtc.RTCPeerConnection()
  const channel = pc.createDataChannel("raw", { negotiated: true, id: 0, ordered: true })
  channel.binaryType = "arraybuffer"
  let expected = 0
  let received = 0
  channel.onmessage = (e: MessageEvent) => {
    if (typeof e.data === "string") {
      expected = (JSON.parse(e.data) as { expect: number }).expect
      received = 0
      return
    }
    received += (e.data as ArrayBuffer).byteLength
    if (received === expected) channel.send("done")
  }
  process.on("message", (m: Signal) => {
    if (m.kind !== "description") return
    void (async () => {
      await pc.setRemoteDescription({ type: m.type, sdp: m.sdp })
      await pc.setLocalDescription(await pc.createAnswer())
      await gathered(pc)
      process.send?.({ kind: "description", type: "answer", sdp: pc.localDescription!.sdp } satisfies Signal)
    })()
  })
  process.on("disconnect", () => process.exit(0))
}

if (process.argv.includes("--raw-receiver")) receiver()
