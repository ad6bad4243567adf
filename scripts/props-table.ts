// The README's props table of the TokenRotation construct, generated from the TSDoc of
// TokenRotationProps (infra/token-rotation.ts) with the TypeScript compiler's parser, so the
// table cannot say something the code's documentation does not. `npm run docs:props` writes it
// between the markers in README.md; test/infra/props-table.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = new URL('../', import.meta.url);
export const START = '<!-- props-table:start (npm run docs:props writes this table) -->';
export const END = '<!-- props-table:end -->';

export interface PropDoc {
  name: string;
  type: string;
  default: string;
  description: string;
}

/** Every prop of `interfaceName` in `file`, with its TSDoc text and `@default`. */
export function readProps(file: string, interfaceName: string): PropDoc[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found = source.statements.find(
    (s): s is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(s) && s.name.text === interfaceName,
  );
  if (!found) throw new Error(`${file} has no interface ${interfaceName}`);
  return found.members.filter(ts.isPropertySignature).map((member) => {
    const name = member.name.getText(source);
    const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const doc = docs.at(-1);
    const description = ts.getTextOfJSDocComment(doc?.comment) ?? '';
    const tag = doc?.tags?.find((t) => t.tagName.text === 'default');
    if (!description || !tag) {
      throw new Error(`${interfaceName}.${name} needs TSDoc with a description and an @default`);
    }
    return {
      name,
      type: member.type?.getText(source) ?? 'unknown',
      default: ts.getTextOfJSDocComment(tag.comment) ?? '',
      description,
    };
  });
}

/** One table cell: one line, pipes escaped. */
const cell = (text: string) => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');

/** `@default - words` is prose (TSDoc's convention); anything else is a value, shown as code. */
function defaultCell(value: string): string {
  const text = cell(value);
  if (text.startsWith('- ')) return text.slice(2);
  return text.startsWith('`') ? text : `\`${text}\``;
}

export function propsTable(props: PropDoc[]): string {
  return [
    '| prop | type | default | what it sets |',
    '| --- | --- | --- | --- |',
    ...props.map(
      (p) =>
        `| \`${p.name}\` | \`${cell(p.type)}\` | ${defaultCell(p.default)} | ${cell(p.description)} |`,
    ),
  ].join('\n');
}

export interface MemberDoc {
  name: string;
  /** The type of a property; a method's parameters and return type. */
  signature: string;
  description: string;
}

/** The public readonly properties and the grant and metric methods of `className`, with TSDoc. */
export function readMembers(
  file: string,
  className: string,
): { properties: MemberDoc[]; methods: MemberDoc[] } {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found = source.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className,
  );
  if (!found) throw new Error(`${file} has no class ${className}`);
  const isPublic = (m: ts.ClassElement) =>
    !(
      ts.getCombinedModifierFlags(m as ts.Declaration) &
      (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
    );
  const describe = (m: ts.ClassElement, name: string) => {
    const doc = ts.getJSDocCommentsAndTags(m).filter(ts.isJSDoc).at(-1);
    const text = ts.getTextOfJSDocComment(doc?.comment) ?? '';
    if (!text) throw new Error(`${className}.${name} needs TSDoc`);
    return text;
  };
  const properties = found.members
    .filter(ts.isPropertyDeclaration)
    .filter(isPublic)
    .map((m) => {
      const name = m.name.getText(source);
      return { name, signature: m.type?.getText(source) ?? '', description: describe(m, name) };
    });
  const methods = found.members
    .filter(ts.isMethodDeclaration)
    .filter(isPublic)
    .filter((m) => /^(grant|metric)/.test(m.name.getText(source)))
    .map((m) => {
      const name = m.name.getText(source);
      const params = m.parameters
        .map((p) =>
          p.initializer
            ? `${p.name.getText(source)}?: ${p.type?.getText(source) ?? 'unknown'}`
            : p.getText(source),
        )
        .join(', ');
      const signature = `${name}(${params}): ${m.type?.getText(source) ?? 'void'}`;
      return { name, signature, description: describe(m, name) };
    });
  return { properties, methods };
}

function memberTable(header: string, members: MemberDoc[]): string {
  return [
    `| ${header} | what it is |`,
    '| --- | --- |',
    ...members.map(
      (m) =>
        `| \`${cell(header === 'method' ? m.signature : `${m.name}: ${m.signature}`)}\` | ${cell(m.description)} |`,
    ),
  ].join('\n');
}

/** The reference as generated from the current TSDoc of TokenRotationProps and TokenRotation. */
export function currentPropsTable(): string {
  const file = new URL('infra/token-rotation.ts', ROOT).pathname;
  const { properties, methods } = readMembers(file, 'TokenRotation');
  return [
    '#### Props (`TokenRotationProps`)',
    '',
    propsTable(readProps(file, 'TokenRotationProps')),
    '',
    '#### Properties',
    '',
    memberTable('property', properties),
    '',
    '#### Methods',
    '',
    memberTable('method', methods),
  ].join('\n');
}

/** What lies between the markers in `readme`. */
export function tableInReadme(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} markers`);
  return readme.slice(start + START.length, end).trim();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = new URL('README.md', ROOT).pathname;
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} markers`);
  const next = `${readme.slice(0, start + START.length)}\n\n${currentPropsTable()}\n\n${readme.slice(end)}`;
  writeFileSync(path, next);
  process.stdout.write(
    next === readme ? 'README.md props table: unchanged\n' : 'README.md props table: written\n',
  );
}
