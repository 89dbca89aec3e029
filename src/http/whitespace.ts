/** OWS, RFC 9110 §5.6.3: optional whitespace is spaces and horizontal tabs only. */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The index of the first character at or after `at` (and before `end`) that is not OWS. */
export function skipOws(text: string, at: number, end = text.length): number {
  let i = at;
  while (i < end && isOws(text.charCodeAt(i))) i++;
  return i;
}
