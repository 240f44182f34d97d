/** Traffic maps of an online endpoint: deployment name → whole percent, summing to 100 or empty. */
export type Traffic = Record<string, number>;

/** The deployment with the most traffic (the first by name on a tie); undefined when none has any. */
export function servingDeployment(traffic: Traffic | null | undefined): string | undefined {
  let best: string | undefined;
  for (const [name, percent] of Object.entries(traffic ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (percent > 0 && (best === undefined || percent > (traffic![best] ?? 0))) best = name;
  }
  return best;
}

/** Only the deployments that get traffic: Azure ML keeps zero entries, comparing is easier without. */
export function withTraffic(traffic: Traffic | null | undefined): Traffic {
  return Object.fromEntries(Object.entries(traffic ?? {}).filter(([, percent]) => percent > 0));
}

/**
 * The traffic once `next` is released: all of it when `canary` is undefined (or nothing else
 * serves); else `canary` percent, the rest split over the current deployments in proportion to
 * what they get now, in whole percents that add up (largest remainder first).
 */
export function shiftTraffic(current: Traffic | null | undefined, next: string, canary?: number): Traffic {
  const others = Object.entries(withTraffic(current)).filter(([name]) => name !== next);
  const total = others.reduce((sum, [, percent]) => sum + percent, 0);
  if (canary === undefined || canary >= 100 || total === 0) return { [next]: 100 };
  const rest = 100 - canary;
  const shares = others.map(([name, percent]) => ({ name, exact: (percent * rest) / total }));
  const out: Traffic = {};
  for (const share of shares) out[share.name] = Math.floor(share.exact);
  let left = rest - Object.values(out).reduce((sum, percent) => sum + percent, 0);
  for (const share of [...shares].sort((a, b) => (b.exact % 1) - (a.exact % 1) || a.name.localeCompare(b.name))) {
    if (left-- <= 0) break;
    out[share.name]! += 1;
  }
  if (canary > 0) out[next] = canary;
  return withTraffic(out);
}

/** Whether two maps send the same share to every deployment. */
export function sameTraffic(a: Traffic | null | undefined, b: Traffic | null | undefined): boolean {
  const left = withTraffic(a);
  const right = withTraffic(b);
  const names = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...names].every((name) => left[name] === right[name]);
}
