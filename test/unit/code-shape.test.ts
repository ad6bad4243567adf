// The code stays readable in small pieces: no source file over 500 lines, no function over 80
// lines, and the construct's top-level class under 250 lines. Tests are exempt (a test reads as
// one story), and so is generated or vendored code (there is none).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['lambdas', 'infra', 'cli', 'bin', 'local-aws'];
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;
const MAX_CONSTRUCT_CLASS_LINES = 250;

function sourceFiles(dir: string): string[] {
  const full = join(ROOT, dir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(full, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) && !/\.(test|d)\.ts$/.test(entry.name) ? [path] : [];
  });
}

const files = SOURCE_DIRS.flatMap(sourceFiles).map((path) => ({
  path,
  text: readFileSync(join(ROOT, path), 'utf8'),
}));

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** Every function-like node with its name and length in lines. */
function functionsOf(path: string, text: string): { name: string; lines: number }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: { name: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name =
        (node.name && ts.isIdentifier(node.name) && node.name.text) ||
        (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)
          ? node.parent.name.text
          : ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name)
            ? node.parent.name.text
            : '(anonymous)');
      found.push({ name: `${name}:${start + 1}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('code shape', () => {
  it('finds the source files it measures', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it(`keeps every source file at most ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map(({ path, text }) => `${path}: ${lineCount(text)}`)
      .filter((line) => Number(line.split(': ')[1]) > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`keeps every function at most ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap(({ path, text }) =>
      functionsOf(path, text)
        .filter((fn) => fn.lines > MAX_FUNCTION_LINES)
        .map((fn) => `${relative('.', path)} ${fn.name}: ${fn.lines} lines`),
    );
    expect(long).toEqual([]);
  });

  it(`keeps the construct's top-level class under ${MAX_CONSTRUCT_CLASS_LINES} lines`, () => {
    const { text } = files.find((f) => f.path === 'infra/token-rotation.ts')!;
    const source = ts.createSourceFile('c.ts', text, ts.ScriptTarget.Latest, true);
    const cls = source.statements.find(
      (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'TokenRotation',
    );
    expect(cls).toBeDefined();
    const lines =
      source.getLineAndCharacterOfPosition(cls!.getEnd()).line -
      source.getLineAndCharacterOfPosition(cls!.getStart(source)).line +
      1;
    expect(lines).toBeLessThan(MAX_CONSTRUCT_CLASS_LINES);
  });
});
