/**
 * Reads class names from a model's metadata: Ultralytics writes `names` as a Python dict literal,
 * `{0: 'person', 1: 'bicycle'}`; some exporters write a JSON object or list instead.
 */
export function classNamesFromMetadata(metadata: Record<string, string>): string[] | undefined {
  const text = metadata.names;
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed.map(String);
    if (parsed && typeof parsed === 'object') return fromEntries(Object.entries(parsed as Record<string, unknown>));
  } catch {
    // not JSON: a Python literal
  }
  const entries: [string, unknown][] = [];
  const pattern = /(\d+)\s*:\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")/g;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    entries.push([m[1]!, unescape(m[2] ?? m[3] ?? '')]);
  }
  if (entries.length > 0) return fromEntries(entries);
  const list = /^\s*\[(.*)\]\s*$/s.exec(text);
  if (list) {
    const items = [...list[1]!.matchAll(/'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"/g)].map((m) =>
      unescape(m[1] ?? m[2] ?? ''),
    );
    if (items.length > 0) return items;
  }
  return undefined;
}

function fromEntries(entries: [string, unknown][]): string[] | undefined {
  const names: string[] = [];
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0) return undefined;
    names[index] = String(value);
  }
  for (let i = 0; i < names.length; i++) names[i] ??= String(i);
  return names;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}
