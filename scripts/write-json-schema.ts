// Writes schema/mesh.schema.json from the zod schema (npm run schema). A unit test keeps it in sync.
import { writeFileSync } from 'node:fs';
import { meshJsonSchema } from '../src/spec/json-schema.ts';

writeFileSync(new URL('../schema/mesh.schema.json', import.meta.url), `${JSON.stringify(meshJsonSchema(), null, 2)}\n`);
