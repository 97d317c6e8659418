/**
 * The kinds of agent (hypervisor/l1/agent.ts), by number as L1's loop table records them: a core
 * makes the agent of an entry from this table.
 */
import type { AgentFactory } from '../agent.js';
import { hcallFuzz } from './hcall-fuzz/agent.js';
import { stateProber } from './state-prober.js';

/** Agent kinds. */
export const AgentKind = {
  STATE_PROBER: 1,
  HCALL_FUZZ: 2,
} as const;
export type AgentKind = (typeof AgentKind)[keyof typeof AgentKind];

/** Kind → factory. */
export const AGENTS: ReadonlyMap<number, AgentFactory> = new Map<number, AgentFactory>([
  [AgentKind.STATE_PROBER, stateProber],
  [AgentKind.HCALL_FUZZ, hcallFuzz],
]);
