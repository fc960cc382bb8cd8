/** Reading the fields of an information response: `+COPS: 0,0,"Vodafone UK",7`. */

/** Splits at commas outside double quotes; quotes are removed and fields trimmed. */
export function splitFields(text: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      fields.push(current.trim());
      current = '';
    } else current += ch;
  }
  fields.push(current.trim());
  return fields;
}

/** The text after `prefix` (`+CSQ:`) when `line` starts with it, case-insensitively. */
export function afterPrefix(line: string, prefix: string): string | undefined {
  return line.toUpperCase().startsWith(prefix.toUpperCase()) ? line.slice(prefix.length).trim() : undefined;
}

/** The fields of the first reply line with `prefix`. */
export function prefixedFields(lines: readonly string[], prefix: string): string[] | undefined {
  for (const line of lines) {
    const rest = afterPrefix(line, prefix);
    if (rest !== undefined) return splitFields(rest);
  }
  return undefined;
}

/** An integer field; undefined for empty, `-` or anything not a number. */
export function intField(field: string | undefined): number | undefined {
  if (field === undefined || !/^-?\d+$/.test(field.trim())) return undefined;
  return Number.parseInt(field, 10);
}

/** A decimal field (`-10.5`); undefined for empty, `-` or anything not a number. */
export function numberField(field: string | undefined): number | undefined {
  if (field === undefined || !/^-?\d+(\.\d+)?$/.test(field.trim())) return undefined;
  return Number(field);
}

/** A text field; undefined for empty and `-` (what Quectel prints for "not available"). */
export function textField(field: string | undefined): string | undefined {
  const t = field?.trim();
  return t === undefined || t === '' || t === '-' ? undefined : t;
}

/** Copies the defined values of `from` onto `to`: optional fields stay absent rather than `undefined`. */
export function assignDefined<T extends object>(to: T, from: Partial<T>): T {
  for (const [k, v] of Object.entries(from)) if (v !== undefined) (to as Record<string, unknown>)[k] = v;
  return to;
}
