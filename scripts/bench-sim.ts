/**
 * Simulator benchmark: runs `npm run sim` in child processes for the Core issue's targets and
 * prints the figures next to each target.
 *
 *   npm run bench:sim [-- --only scale|faults|history] [--seeds 5] [--json]
 *
 * - scale:   50 peers x 60 minutes, file presence: wall time of the whole command (target < 60 s).
 * - faults:  10 peers x 60 minutes, file presence, crash+partition, seeds 1..N: lost, duplicated,
 *            longest commit wait, repository writes per hour, discovery p99.
 * - history: commit size p50 with 100 and with 100,000 messages already committed (target ratio <= 1.2).
 * Wall times depend on the machine and its load: the load average is printed with them.
 */
import { spawnSync } from "node:child_process"
import { loadavg } from "node:os"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import type { SimReport } from "../src/sim/simulate.js"

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    seeds: { type: "string", default: "5" },
    json: { type: "boolean", default: false }
  }
})
const parts = values.only === undefined ? ["scale", "faults", "history"] : values.only.split(",")
for (const p of parts) {
  if (!["scale", "faults", "history"].includes(p)) {
    process.stderr.write(`bench:sim: unknown part "${p}" (scale, faults, history)\n`)
    process.exit(2)
  }
}
const seeds = Number(values.seeds)
if (!Number.isInteger(seeds) || seeds < 1 || seeds > 50) {
  process.stderr.write(`bench:sim: --seeds must be a whole number from 1 to 50\n`)
  process.exit(2)
}

/** The 10-peer targets (Core issue): one poll interval (15 s) + 1 s, ten minutes plus one flush. */
const TARGETS = { maxCommitLatencyMs: 600_000 + 15_000, repoWritesPerHour: 120, discoveryP99Ms: 16_000, scaleWallMs: 60_000, historyRatio: 1.2 }

/** Runs `npm run sim` with `args` in a fresh process, the way a user would, and times it. */
const sim = (args: ReadonlyArray<string>): { readonly report: SimReport; readonly wallMs: number } => {
  const started = performance.now()
  const run = spawnSync(process.execPath, ["--max-semi-space-size=128", "--import", "tsx", "scripts/sim.ts", ...args, "--json"], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024
  })
  const wallMs = Math.round(performance.now() - started)
  if (run.status !== 0) throw new Error(`sim ${args.join(" ")} failed (${run.status}): ${run.stderr.slice(-2000)}`)
  return { report: JSON.parse(run.stdout) as SimReport, wallMs }
}

const load = () => loadavg().map((l) => Number(l.toFixed(2)))
const result: Record<string, unknown> = { loadAverageAtStart: load() }
const say = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`)
}

if (parts.includes("scale")) {
  const { report, wallMs } = sim(["--peers", "50", "--minutes", "60", "--presence", "file", "--seed", "1"])
  result.scale = { wallMs, target: `< ${TARGETS.scaleWallMs}`, met: wallMs < TARGETS.scaleWallMs, messagesLost: report.messagesLost, loadAverageAfter: load() }
  say(`scale   50 peers x 60 min: ${(wallMs / 1000).toFixed(1)} s wall (target < 60 s) ${wallMs < TARGETS.scaleWallMs ? "met" : "NOT MET"}; lost ${report.messagesLost}`)
}

if (parts.includes("faults")) {
  const runs = Array.from({ length: seeds }, (_, i) => {
    const { report, wallMs } = sim(["--peers", "10", "--minutes", "60", "--presence", "file", "--seed", String(i + 1), "--faults", "crash,partition"])
    const met =
      report.messagesLost === 0 &&
      report.duplicatesCommitted === 0 &&
      report.maxCommitLatencyMs <= TARGETS.maxCommitLatencyMs &&
      report.repoWritesPerHour <= TARGETS.repoWritesPerHour &&
      report.discoveryMs.p99 <= TARGETS.discoveryP99Ms
    const row = {
      seed: i + 1,
      lost: report.messagesLost,
      duplicated: report.duplicatesCommitted,
      maxCommitLatencyMs: report.maxCommitLatencyMs,
      repoWritesPerHour: report.repoWritesPerHour,
      discoveryP99Ms: report.discoveryMs.p99,
      wallMs,
      met
    }
    say(
      `faults  seed ${row.seed}: lost ${row.lost}, duplicated ${row.duplicated}, longest wait ${row.maxCommitLatencyMs} ms, ` +
        `${row.repoWritesPerHour} repo writes/h, discovery p99 ${row.discoveryP99Ms} ms ${met ? "met" : "NOT MET"}`
    )
    return row
  })
  result.faults = { targets: TARGETS, runs, met: runs.every((r) => r.met) }
}

if (parts.includes("history")) {
  const bytes = (history: number) =>
    sim(["--peers", "10", "--minutes", "60", "--presence", "file", "--seed", "1", "--history", String(history)]).report.commitBytes.p50
  const small = bytes(100)
  const large = bytes(100_000)
  const ratio = Number((large / small).toFixed(3))
  result.history = { commitBytesP50: { history100: small, history100000: large }, ratio, met: ratio <= TARGETS.historyRatio }
  say(`history commit size p50: ${small} B with 100 messages, ${large} B with 100,000 (${ratio}x, target <= 1.2) ${ratio <= TARGETS.historyRatio ? "met" : "NOT MET"}`)
}

if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
