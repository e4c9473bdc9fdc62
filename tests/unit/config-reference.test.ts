// docs/configuration.md is generated from src/config.schema.json; these tests make CI fail when it is
// stale, when a schema property has no description, or when ENV_OVERRIDES names a key that does not exist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENV_OVERRIDES } from '../../src/config.js';
import {
  COMMAND,
  configKeys,
  readSchema,
  REFERENCE_PATH,
  referenceProblem,
  renderConfigReference,
  schemaAt,
  type SchemaNode,
} from '../../scripts/config-reference.js';

/** Every `properties` map anywhere in the schema (objects, array items, oneOf/anyOf alternatives), with a readable location. */
function propertyMaps(node: unknown, at = '#'): { at: string; properties: Record<string, unknown> }[] {
  if (node === null || typeof node !== 'object') return [];
  const found: { at: string; properties: Record<string, unknown> }[] = [];
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'properties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      found.push({ at: `${at}/properties`, properties: value as Record<string, unknown> });
    }
    found.push(...propertyMaps(value, `${at}/${key}`));
  }
  return found;
}

describe('configuration reference (docs/configuration.md)', () => {
  const schema = readSchema();

  it('is what scripts/config-reference.ts generates from the schema now', () => {
    const current = readFileSync(REFERENCE_PATH, 'utf8');
    assert.equal(referenceProblem(current), null, `docs/configuration.md is stale: run \`${COMMAND}\``);
    assert.ok(current.split('\n')[0]?.includes(COMMAND), 'the first line names the command that generates it');
  });

  it('reports a stale or missing file with the command to run', () => {
    const expected = renderConfigReference(schema);
    assert.match(referenceProblem(`${expected}\nedited by hand\n`, expected) ?? '', /out of date.*npx tsx scripts\/config-reference\.ts/);
    assert.match(referenceProblem(undefined, expected) ?? '', /missing/);
  });

  it('gives every schema property a description', () => {
    const undocumented = propertyMaps(schema).flatMap(({ at, properties }) =>
      Object.entries(properties)
        .filter(([, property]) => typeof (property as SchemaNode).description !== 'string' || (property as SchemaNode).description?.trim() === '')
        .map(([name]) => `${at}/${name}`),
    );
    assert.deepEqual(undocumented, []);
  });

  it('lists every property of the schema in a table row', () => {
    const reference = renderConfigReference(schema);
    const keys = configKeys(schema).map((key) => key.path);
    assert.ok(keys.includes('imaging.dicomweb.endpoints[].auth.passwordEnv'), 'descends into array items and oneOf alternatives');
    for (const path of keys.filter((p) => p.includes('.'))) assert.ok(reference.includes(`| \`${path}\` |`), `no row for ${path}`);
  });

  it('has every ENV_OVERRIDES variable name an existing key, and shows it in the reference', () => {
    const reference = renderConfigReference(schema);
    for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
      assert.ok(schemaAt(schema, path), `${name} overrides ${path}, which is not in src/config.schema.json`);
      assert.ok(reference.includes(`\`${name}\``), `${name} is not in the reference`);
    }
  });
});
