/** Small HTTP helpers shared by the oracle's readers: abortable sleep, time-limited GET, causes. */

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** undici hides the socket error (ECONNREFUSED...) in `cause`: name both. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return error.message;
  const code = (cause as Error & { code?: unknown }).code;
  const withCode = typeof code === "string" && !cause.message.includes(code) ? `${cause.message} ${code}` : cause.message;
  return `${error.message} (${withCode})`;
}

export type TextResponse = { status: number; body: string; headers: Headers };

/**
 * GET `url` and read its whole body within `timeoutMs` (the body too: a stalled stream is a
 * timeout). Network failures throw as fetch does; the caller's own abort throws its reason.
 */
export async function getText(url: string, options: { timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> }): Promise<TextResponse> {
  options.signal?.throwIfAborted();
  const limit = AbortSignal.timeout(Math.max(1, options.timeoutMs));
  const signal = options.signal === undefined ? limit : AbortSignal.any([options.signal, limit]);
  try {
    const res = await fetch(url, { signal, headers: { accept: "application/json", ...options.headers } });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

export type RetryOptions = {
  timeoutMs: number;
  /** Extra attempts after a transient failure. */
  retries: number;
  /** First wait between attempts, doubled each time up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
};

/** Every attempt failed transiently; the caller turns this into its own typed error. */
export class RetriesExhausted extends Error {
  override name = "RetriesExhausted";
  readonly attempts: number;
  readonly lastFailure: string;
  constructor(attempts: number, lastFailure: string) {
    super(`${attempts} attempt(s) failed; last: ${lastFailure}`);
    this.attempts = attempts;
    this.lastFailure = lastFailure;
  }
}

/** Statuses worth another try: the server is busy or broken, not refusing us. */
export const isTransientStatus = (status: number) => status >= 500 || status === 429 || status === 408;

/**
 * GET with retries and exponential backoff on refused connections, timeouts and transient
 * statuses; any other answer (200, 4xx) is returned for the caller to judge.
 */
export async function getWithRetries(url: string, options: RetryOptions): Promise<TextResponse> {
  let lastFailure = "";
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await sleep(Math.min(options.backoffMs * 2 ** (attempt - 1), options.maxBackoffMs), options.signal);
    let res: TextResponse;
    try {
      res = await getText(url, options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      lastFailure = `GET ${url}: ${describeFailure(error)}`;
      continue;
    }
    if (!isTransientStatus(res.status)) return res;
    lastFailure = `GET ${url} answered ${res.status}`;
  }
  throw new RetriesExhausted(options.retries + 1, lastFailure);
}
