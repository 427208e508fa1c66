#!/usr/bin/env node
// The `sluice` command. Sluice runs from its TypeScript sources through tsx's loader (a runtime
// dependency), so `npx sluice …` works right after `npm ci`, without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
