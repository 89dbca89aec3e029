/**
 * The flag a mistyped one most likely meant, or nothing. Commander's own
 * suggestion is generous (`--cors` → `--port`: two letters of four differ),
 * which sends people to a flag that has nothing to do with what they wanted.
 * A suggestion is made only for a slip of the keyboard: one letter added,
 * dropped, changed or two swapped, or two such slips in a name of seven
 * letters or more.
 */
export function suggestFlag(unknown: string, known: readonly string[]): string | undefined {
  const name = unknown.replace(/^-+/, '').split('=', 1)[0]!.toLowerCase();
  if (name === '') return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const flag of known) {
    const distance = editDistance(name, flag.replace(/^-+/, '').toLowerCase());
    if (distance < bestDistance) {
      best = flag;
      bestDistance = distance;
    }
  }
  const allowed = name.length >= 7 ? 2 : 1;
  // Distance 0 is a flag typed in another case: commander matches exactly, so it was unknown.
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
