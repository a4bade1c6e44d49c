// A configuration the server cannot start with. The message names the setting — a config file's field
// ("models[1].task"), a flag ("--port") or an environment variable ("PORT") — so the CLI can print it
// as one line, without a stack.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Throws a ConfigError for `at`: "<at>: <problem>". */
export function invalid(at: string, problem: string): never {
  throw new ConfigError(`${at}: ${problem}`);
}
