/**
 * V8 settings of a Node process that runs SkyGit peers, applied when this module is imported:
 * entry points import it before anything else, and processes they spawn to compare against
 * (the bare channel of bench:net) start with the same `PEER_V8_FLAGS`.
 *
 * Allocation-site pretenuring is off. V8 allocates objects straight into the old generation
 * from a code site whose earlier objects lived long (`--trace-pretenuring` shows the peers' sites
 * tenured within seconds). Decoded envelopes are built at sites shared with what a peer keeps
 * (most likely Schema's decoders: presence, history), so they started life old, and each kept its
 * payload (a young string of up to a frame) alive through every young-generation collection, to
 * be copied and promoted: a peer receiving at full speed spent more time collecting than parsing,
 * and a channel carried 0.57-0.61 of what the bare library did; with it off, 0.85-1.04
 * (docs/benchmarks.md, Issue 10).
 */
import { setFlagsFromString } from "node:v8"

/** The settings, as `node` command-line flags. */
export const PEER_V8_FLAGS: ReadonlyArray<string> = ["--no-allocation-site-pretenuring"]

for (const flag of PEER_V8_FLAGS) setFlagsFromString(flag)
