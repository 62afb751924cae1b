/**
 * Raised when an environment variable holds a value Gatehouse cannot use.
 * The message names the variable and what it accepts, never the value itself
 * (it may be a secret).
 */
export class ConfigError extends Error {
  /** Stable machine-readable code. */
  readonly code = "ERR_CONFIG_INVALID";
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    /** What the variable accepts, phrased for an operator. */
    readonly accepts: string,
  ) {
    super(`${variable}: invalid value; expected ${accepts}`);
    this.name = "ConfigError";
  }
}
