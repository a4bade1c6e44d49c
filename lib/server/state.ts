// Readiness and drain: whether the server should get traffic, and how many inference requests it is
// answering, so shutdown can wait for exactly those.
import type { InferenceServerState } from './options.js';

export class ServerState implements InferenceServerState {
  #modelsLoaded = false;
  #draining = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  readonly loaded: Promise<void>;

  constructor(loading: Promise<void>) {
    this.loaded = loading.then(() => {
      this.#modelsLoaded = true;
    });
    // A load failure is reported through `loaded` to whoever awaits it; readiness just stays 503.
    this.loaded.catch(() => {});
  }

  get ready(): boolean {
    return this.#modelsLoaded && !this.#draining;
  }

  get modelsLoaded(): boolean {
    return this.#modelsLoaded;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs one inference request's work, counted as in flight until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await work();
    } finally {
      if (--this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  drain(timeoutMs = 10_000): Promise<boolean> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(wake);
    });
  }
}
