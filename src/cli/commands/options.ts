// Flags shared by several commands.
import { Option } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat } from '../output.ts';

export const specOption = () => new Option('-f, --file <mesh.yaml>', 'mesh spec file').makeOptionMandatory();
export const formatOption = (flags = '-o, --output <format>') => new Option(flags, 'result format').choices(OUTPUT_FORMATS).default('text' as OutputFormat);
