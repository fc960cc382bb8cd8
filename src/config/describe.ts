/** Walks the schema to list every key with its default and description. */
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

export interface KeyDoc {
  key: string;
  default: unknown;
  description: string;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) s = s.out as z.ZodType;
    else return s;
  }
}

export function describeConfig(): KeyDoc[] {
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  const out: KeyDoc[] = [];
  const walk = (schema: z.ZodType, prefix: string, dflt: unknown): void => {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      for (const [k, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        const d = dflt && typeof dflt === 'object' ? (dflt as Record<string, unknown>)[k] : undefined;
        walk(child, prefix ? `${prefix}.${k}` : k, d);
      }
      return;
    }
    out.push({ key: prefix, default: dflt, description: schema.description ?? inner.description ?? '' });
  };
  walk(ConfigSchema, '', defaults);
  return out;
}
