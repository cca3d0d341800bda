/** A reason a database probe stops, said as is in its result (never a stack trace). */
export class ProbeError extends Error {}

/** Rejects when the signal aborts, so a silent server can never hold the probe. */
export function abortable<T>(signal: AbortSignal, work: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      const reason = signal.reason as { name?: unknown } | undefined;
      reject(
        new ProbeError(reason?.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'cancelled'),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Compares dotted versions ("6.0.12" vs "6.0"), missing parts counting as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pb.length, 3); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
