/**
 * Which V1Host an L0 view uses. One L0 object has one v1 state; in the multicore runtime every
 * thread's L0 view must be given a view of the same state (`installV1(l0, V1Host.attach(shared))`
 * right after `L0.attach`), as its partition state is shared. An L0 that was given none gets a
 * fresh one with the default configuration on its first v1 hcall (deterministic mode, tests).
 */
import type { L0 } from '../l0.js';
import { defaultV1Config } from './config.js';
import { V1Host } from './host.js';

const hosts = new WeakMap<L0, V1Host>();

/** Gives `l0` its v1 state (call before its first v1 hcall). */
export function installV1(l0: L0, host: V1Host): V1Host {
  hosts.set(l0, host);
  return host;
}

/** The v1 state of `l0`, created with the default configuration if it has none yet. */
export function v1Of(l0: L0): V1Host {
  let h = hosts.get(l0);
  if (!h) {
    h = V1Host.create(defaultV1Config());
    hosts.set(l0, h);
  }
  return h;
}

/** The v1 state of `l0` if it has one (never creates it: for v2 paths that also serve v1 L2s). */
export function v1IfAny(l0: L0): V1Host | undefined {
  return hosts.get(l0);
}
