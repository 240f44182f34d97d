/**
 * Runs `work` over every item with at most `limit` at a time; each worker may carry its own state
 * (reused buffers, say). On the first failure the workers stop taking items, and the call settles
 * only once every running item has finished, so nothing is still at work when it rejects.
 */
export async function runPool<T, R, S = undefined>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number, state: S) => Promise<R>,
  makeState: () => S = () => undefined as S,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let nextIndex = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    const state = makeState();
    while (!failure && nextIndex < items.length) {
      const index = nextIndex++;
      try {
        results[index] = await work(items[index]!, index, state);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
