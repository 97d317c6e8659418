/**
 * The three kinds of failure (docs/architecture.md, "Errors"):
 * architected outcomes are return values; user mistakes are a UserError (one clear line, exit 2);
 * simulator bugs throw anything else and are reported as internal errors (exit 70).
 */

/** Exit codes of the `nestsim` command. */
export const ExitCode = {
  OK: 0,
  /** A check failed, or the guest's own exit code is non-zero (then that code is used). */
  CHECK_FAILED: 1,
  /** Bad input from the user: flags, scenario file, ELF, hex. */
  USAGE: 2,
  /** A bug in nestsim itself. */
  INTERNAL: 70,
} as const;

/** A mistake in what the user gave us. `where` names the field, file or element at fault. */
export class UserError extends Error {
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(where ? `${where}: ${reason}` : reason);
    this.name = 'UserError';
  }
}
