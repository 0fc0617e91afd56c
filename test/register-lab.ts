// Tests that drive the library against the lab register it as the CLI does (src/cli/main.ts).
import { registerProvider } from '../src/engine/provider.ts';
import { labProvider } from '../src/lab/provider.ts';

registerProvider(labProvider);
