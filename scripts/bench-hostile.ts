/**
 * Issue 13 benchmark: what a hostile collaborator's made-up presence entries cost real peers.
 *
 *   npm run bench:hostile -- [--entries 1000,10000] [--seconds 30] [--json]
 *
 * For each entry count: a local hub on loopback and two headless Node peers (alice, bob) in
 * child processes. After they link, 20 s idle are measured, then an attacker rewrites the
 * presence file every 10 s with that many fresh made-up entries (half sorting before the real
 * peers, half after, each with a fingerprint) for `--seconds`, while the peers chat. Prints,
 * per peer: open files and resident memory idle and at the peak of the attack, and average
 * CPU (% of one core) idle and under attack; whether every chat message arrived and the
 * channel stayed open. 10,000 entries make a file over 1 MB: unreadable, so it is repaired.
 */
import { readdirSync, readFileSync } from "node:fs"
import { PRESENCE_PATH } from "../src/domain/commit-layout.js"
import { PeerProcess, REPO, startHub, withFakes } from "../test/node/peer-process.js"

const argOf = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? undefined : process.argv[at + 1]
}
const counts = (argOf("entries") ?? "1000,10000").split(",").map(Number).filter((n) => n > 0)
const attackSeconds = Number(argOf("seconds") ?? 30)
const json = process.argv.includes("--json")
/** Idle measurement before the attack. */
const IDLE_MS = 20_000
/** Clock ticks per second of /proc/<pid>/stat (Linux). */
const TICKS = 100

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cpuTicks = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return Number(fields[11]) + Number(fields[12])
}
const files = (pid: number) => readdirSync(`/proc/${pid}/fd`).length
const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024

/** Samples a process every second for `ms`: peak files and memory, average CPU. */
const sample = async (pids: ReadonlyArray<number>, ms: number, during?: (second: number) => Promise<void>) => {
  const t0 = Date.now()
  const c0 = pids.map(cpuTicks)
  const peak = pids.map((p) => ({ files: files(p), rssMB: rssMB(p) }))
  for (let s = 0; Date.now() - t0 < ms; s++) {
    await during?.(s)
    await sleep(1_000)
    pids.forEach((p, i) => {
      peak[i] = { files: Math.max(peak[i]!.files, files(p)), rssMB: Math.max(peak[i]!.rssMB, rssMB(p)) }
    })
  }
  const seconds = (Date.now() - t0) / 1000
  return pids.map((p, i) => ({ ...peak[i]!, cpuPct: (100 * (cpuTicks(p) - c0[i]!)) / TICKS / seconds }))
}

const run = async (entries: number) => {
  const hub = await startHub()
  const alice = PeerProcess.spawn(hub, "alice", "a1")
  const bob = PeerProcess.spawn(hub, "bob", "b1")
  try {
    await Promise.all([alice.waitOpen(["bob/b1"], 120_000), bob.waitOpen(["alice/a1"], 120_000)])
    const pids = [alice.pid, bob.pid]
    const idle = await sample(pids, IDLE_MS)
    let sent = 0
    let delivered = 0
    const attack = await sample(pids, attackSeconds * 1000, async (s) => {
      if (s % 10 !== 0) return
      const text = await hub.hub.git.readFile(REPO, "skygit", PRESENCE_PATH)
      await hub.hub.faults.corruptFile(REPO, "skygit", PRESENCE_PATH, withFakes(text, entries, Date.now()))
      const line = `during ${s}`
      sent++
      alice.say(line)
      delivered += await bob.waitMessage(line, 20_000).then(() => 1, () => 0)
    })
    const open = await Promise.all([alice.waitOpen(["bob/b1"], 5_000), bob.waitOpen(["alice/a1"], 5_000)]).then(() => true, () => false)
    return {
      entries,
      attackSeconds,
      peers: ["alice", "bob"].map((name, i) => ({
        name,
        idleFiles: idle[i]!.files,
        peakFiles: attack[i]!.files,
        idleRssMB: Math.round(idle[i]!.rssMB),
        peakRssMB: Math.round(attack[i]!.rssMB),
        idleCpuPct: Number(idle[i]!.cpuPct.toFixed(1)),
        attackCpuPct: Number(attack[i]!.cpuPct.toFixed(1))
      })),
      chat: `${delivered}/${sent}`,
      channelOpen: open
    }
  } finally {
    alice.kill9()
    bob.kill9()
    await hub.close()
  }
}

const results = []
for (const n of counts) {
  const r = await run(n)
  results.push(r)
  if (!json) {
    console.log(`${n} made-up entries, ${attackSeconds} s: chat ${r.chat}, channel ${r.channelOpen ? "open" : "DROPPED"}`)
    for (const p of r.peers) {
      console.log(
        `  ${p.name}: files ${p.idleFiles} -> ${p.peakFiles} (+${p.peakFiles - p.idleFiles}, target +100), rss ${p.idleRssMB} -> ${p.peakRssMB} MB (+${p.peakRssMB - p.idleRssMB}, target +50), cpu idle ${p.idleCpuPct}% attack ${p.attackCpuPct}% (target 10%)`
      )
    }
  }
}
if (json) console.log(JSON.stringify(results))
process.exit(0)
