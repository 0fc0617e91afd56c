import type { Command } from 'commander';
import { meshJsonSchema } from '../../spec/json-schema.ts';
import type { Io } from '../output.ts';

export function registerSchemaCommand(program: Command, io: Io): void {
  program
    .command('schema')
    .description('print the JSON Schema of the mesh spec (for editor completion)')
    .action(() => {
      io.stdout.write(`${JSON.stringify(meshJsonSchema(), null, 2)}\n`);
    });
}
