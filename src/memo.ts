/**
 * Remembers the answers of a pure function of one string, for values the clients
 * send again and again (a page's request targets, a browser's Host header).
 * Only keys up to `maxKeyLength` are kept, and the memory is emptied when it holds
 * `maxEntries`: a client inventing endless distinct values costs a fixed amount of
 * memory, and the values in real use come back at once.
 */
export function boundedMemo<V>(maxEntries: number, maxKeyLength: number, compute: (key: string) => V): (key: string) => V {
  const answers = new Map<string, V>();
  return (key) => {
    let answer = answers.get(key);
    if (answer !== undefined) return answer;
    answer = compute(key);
    if (key.length <= maxKeyLength) {
      if (answers.size >= maxEntries) answers.clear();
      answers.set(key, answer);
    }
    return answer;
  };
}
