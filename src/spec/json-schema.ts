import { z } from 'zod';
import { API_VERSION, meshDocumentSchema } from './schema.ts';

/** JSON Schema of the spec as a user writes it (input side: defaulted fields are optional). */
export function meshJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(meshDocumentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: `https://eastwest.dev/schema/${API_VERSION.split('/')[1]}/mesh.json`, title: `eastwest Mesh (${API_VERSION})` };
}
