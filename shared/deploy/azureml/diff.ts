/** Settings as ordered `key: value` pairs; a missing value is left out of the text. */
export type Settings = [key: string, value: string | undefined][];

/**
 * A unified-style diff of two sets of settings, key by key: ` ` unchanged, `-` old, `+` new.
 * Good enough for flat settings, which is all an endpoint's traffic and a deployment hold here.
 */
export function settingsDiff(oldLabel: string, newLabel: string, before: Settings, after: Settings): string {
  const oldValues = new Map(before.filter(([, value]) => value !== undefined));
  const newValues = new Map(after.filter(([, value]) => value !== undefined));
  const keys = [...new Set([...before.map(([key]) => key), ...after.map(([key]) => key)])];
  const lines = [`--- ${oldLabel}`, `+++ ${newLabel}`];
  for (const key of keys) {
    const was = oldValues.get(key);
    const will = newValues.get(key);
    if (was === will) {
      if (was !== undefined) lines.push(`  ${key}: ${was}`);
      continue;
    }
    if (was !== undefined) lines.push(`- ${key}: ${was}`);
    if (will !== undefined) lines.push(`+ ${key}: ${will}`);
  }
  return lines.join('\n');
}
