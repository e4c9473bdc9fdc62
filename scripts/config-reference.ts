// Writes docs/configuration.md from src/config.schema.json (descriptions, types, defaults) and
// ENV_OVERRIDES (src/config.ts), so the reference cannot drift from what the loader accepts.
//   npx tsx scripts/config-reference.ts           write docs/configuration.md
//   npx tsx scripts/config-reference.ts --check   exit 1 when docs/configuration.md is not what it would write
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENV_OVERRIDES } from '../src/config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_PATH = join(ROOT, 'src', 'config.schema.json');
export const REFERENCE_PATH = join(ROOT, 'docs', 'configuration.md');
export const COMMAND = 'npx tsx scripts/config-reference.ts';

/** The parts of JSON Schema (draft-07) that config.schema.json uses. */
export interface SchemaNode {
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
}

/** One configuration key: its dotted path (`[]` for array items) and every schema node that defines it. */
export interface ConfigKey {
  path: string;
  nodes: SchemaNode[];
  /** Required in the object that holds it (in every alternative that defines it). */
  required: boolean;
}

export function readSchema(path: string = SCHEMA_PATH): SchemaNode {
  return JSON.parse(readFileSync(path, 'utf8')) as SchemaNode;
}

/**
 * Every property of the schema in document order, descending into objects, array items and
 * oneOf/anyOf alternatives; a key defined in several alternatives is listed once.
 */
export function configKeys(schema: SchemaNode): ConfigKey[] {
  const keys = new Map<string, ConfigKey>();
  const visit = (node: SchemaNode, prefix: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      const required = node.required?.includes(name) ?? false;
      const known = keys.get(path);
      if (known) {
        known.nodes.push(child);
        known.required &&= required;
      } else keys.set(path, { path, nodes: [child], required });
      visit(child, path);
    }
    if (node.items) visit(node.items, `${prefix}[]`);
    for (const alternative of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) visit(alternative, prefix);
  };
  visit(schema, '');
  return [...keys.values()];
}

/** The schema node at a dotted path (`a.b`, `a.b[].c`), or undefined. */
export function schemaAt(schema: SchemaNode, path: string): SchemaNode | undefined {
  return configKeys(schema).find((key) => key.path === path)?.nodes[0];
}

const code = (text: string): string => `\`${text}\``;
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function typeOf(node: SchemaNode): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  const alternatives = node.oneOf ?? node.anyOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' | ');
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  if (types.length === 1 && types[0] === 'array') return node.items ? `array of ${typeOf(node.items)}` : 'array';
  return types.join(' | ') || 'any';
}

function constraints(node: SchemaNode): string[] {
  const notes: string[] = [];
  if (node.format) notes.push(node.format);
  if (node.minimum !== undefined && node.maximum !== undefined) notes.push(`${node.minimum}–${node.maximum}`);
  else if (node.minimum !== undefined) notes.push(`≥ ${node.minimum}`);
  else if (node.maximum !== undefined) notes.push(`≤ ${node.maximum}`);
  if (node.minItems !== undefined) notes.push(`at least ${node.minItems}`);
  return notes;
}

function typeCell(key: ConfigKey): string {
  const types = [...new Set(key.nodes.map(typeOf))];
  // Alternatives that each fix one value (a discriminator such as `type`) read as one union.
  const type = types.join(' | ');
  const notes = [...new Set(key.nodes.flatMap(constraints))];
  if (key.required) notes.unshift('required');
  return cell(`${code(type)}${notes.length ? ` (${notes.join(', ')})` : ''}`);
}

function defaultCell(key: ConfigKey): string {
  const node = key.nodes.find((n) => n.default !== undefined);
  return node ? cell(code(JSON.stringify(node.default))) : '—';
}

/** How the environment can set a key: its own variable, or one that replaces an enclosing key (JSON). */
function envCell(key: ConfigKey, schema: SchemaNode): string {
  const bare = key.path.replace(/\[\]/g, '');
  for (const [name, target] of Object.entries(ENV_OVERRIDES)) {
    const node = schemaAt(schema, target);
    const json = node !== undefined && (node.type === 'array' || node.type === 'object' || node.anyOf !== undefined || node.oneOf !== undefined);
    if (target === key.path) return `${code(name)}${json ? ' (JSON)' : ''}`;
    if (bare.startsWith(`${target}.`) || key.path.startsWith(`${target}[]`)) return `in ${code(name)}`;
  }
  return '';
}

function descriptionCell(key: ConfigKey): string {
  return cell(key.nodes.find((n) => n.description)?.description ?? '');
}

const INTRO = `# Configuration reference

One typed configuration: a JSON file named by \`CDS_CONFIG\` (or \`--config\`), then the environment
variables below, then validation against [\`src/config.schema.json\`](../src/config.schema.json), which
also fills the defaults. A problem stops start-up with exit code 2 and a message naming the key and
where the value came from, e.g. \`Invalid configuration: server.port must be <= 65535 (from PORT)\`.
\`config/example.production.json\` is an example for production.

Environment values are strings converted to the key's type (\`PORT=8443\`, \`CDS_AUTH_DISABLED=true\`);
a value that starts with \`[\` or \`{\` is read as JSON and replaces the whole key (\`CDS_FHIR_SERVERS='[{"baseUrl":"https://fhir.example.org/r4"}]'\`).
"in \`NAME\`" means the key is set only as part of the JSON value of \`NAME\`. Key paths are dotted;
\`[]\` stands for every item of an array. Beyond the schema, start-up refuses: an \`auth.clients[]\`
entry with both \`jwks\` and \`jwksUrl\`, or with none of \`jwks\`, \`jwksUrl\` and \`allowedJku\`; an
\`iss\` listed twice; an \`http:\` FHIR or DICOMweb URL without \`allowInsecureHttp: true\`; a PACS
credential variable that is not set.
`;

/** The whole of docs/configuration.md for this schema. */
export function renderConfigReference(schema: SchemaNode = readSchema()): string {
  const lines = [
    `<!-- Generated from src/config.schema.json by \`${COMMAND}\`: do not edit by hand (CI checks it is current). -->`,
    INTRO,
  ];
  const table = (keys: ConfigKey[]): void => {
    lines.push('| key | type | default | env | description |', '|---|---|---|---|---|');
    for (const key of keys) {
      lines.push(`| ${code(key.path)} | ${typeCell(key)} | ${defaultCell(key)} | ${envCell(key, schema)} | ${descriptionCell(key)} |`);
    }
    lines.push('');
  };
  const all = configKeys(schema);
  const sections = Object.entries(schema.properties ?? {});
  const scalars = sections.filter(([, node]) => node.properties === undefined);
  if (scalars.length > 0) {
    lines.push('## Top level', '');
    table(all.filter((key) => scalars.some(([name]) => key.path === name)));
  }
  for (const [name, node] of sections) {
    if (node.properties === undefined) continue;
    lines.push(`## \`${name}\``, '');
    if (node.description) lines.push(node.description, '');
    const whole = Object.entries(ENV_OVERRIDES).find(([, target]) => target === name);
    if (whole) lines.push(`The environment variable ${code(whole[0])} sets the whole section (JSON).`, '');
    table(all.filter((key) => key.path.startsWith(`${name}.`)));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Null when `current` is what would be written, else the message for CI. */
export function referenceProblem(current: string | undefined, expected: string = renderConfigReference()): string | null {
  if (current === expected) return null;
  return current === undefined
    ? `docs/configuration.md is missing; run \`${COMMAND}\` and commit it.`
    : `docs/configuration.md is out of date with src/config.schema.json; run \`${COMMAND}\` and commit the result (never edit it by hand).`;
}

function main(argv: readonly string[]): number {
  const expected = renderConfigReference();
  if (argv.includes('--check')) {
    let current: string | undefined;
    try {
      current = readFileSync(REFERENCE_PATH, 'utf8');
    } catch {
      current = undefined;
    }
    const problem = referenceProblem(current, expected);
    if (problem) {
      process.stderr.write(`${problem}\n`);
      return 1;
    }
    process.stdout.write('docs/configuration.md is up to date\n');
    return 0;
  }
  writeFileSync(REFERENCE_PATH, expected);
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
