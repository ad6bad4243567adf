#!/usr/bin/env node
// `npx token-rotation <command>` in this repository: runs the operator CLI (cli/bin.ts) with plain
// node through tsx's ESM loader, so it is always the TypeScript you have checked out, with no build
// step. The installed package's `token-rotation` is the same CLI compiled into one file.
import { register } from 'tsx/esm/api';

register();
await import('../cli/bin.ts');
