// The structure scan that runs before JSON.parse on every request body: strings are skipped exactly
// (escaped quotes and backslashes), keys are told from values, and only real keys are checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonStructureProblem } from '../../src/cds/json-structure.js';

const problem = (text: string, maxDepth = 100): string | undefined => {
  JSON.parse(text); // every case is valid JSON: the scan refuses what JSON.parse would accept
  return jsonStructureProblem(Buffer.from(text), maxDepth);
};

describe('jsonStructureProblem', () => {
  it('counts only real brackets toward depth, not ones inside strings', () => {
    assert.equal(problem('{"a":"{{{{[[[[","b":["]]]]"]}', 2), undefined);
    assert.match(problem('{"a":[[1]]}', 2) ?? '', /nested deeper than 2 levels/);
  });

  it('skips escaped quotes and backslashes, so a key after such a string is still seen', () => {
    assert.match(problem(String.raw`{"k":"q\"","k":1}`) ?? '', /"k" appears twice/);
    assert.match(problem(String.raw`{"k":"\\","k":1}`) ?? '', /"k" appears twice/);
    assert.match(problem(String.raw`{"k":"\\\"","k":1}`) ?? '', /"k" appears twice/);
  });

  it('compares keys as JSON.parse decodes them', () => {
    assert.match(problem(String.raw`{"é":1,"\u00e9":2}`) ?? '', /appears twice/);
    assert.match(problem(String.raw`{"\u0063onstructor":{}}`) ?? '', /"constructor" is not allowed/);
  });

  it('accepts the same key in different objects, and forbidden names as values', () => {
    assert.equal(problem('[{"a":1},{"a":1},{"b":{"a":2}}]'), undefined);
    assert.equal(problem('{"x":"__proto__","y":["constructor"],"z":{"a":"__proto__"}}'), undefined);
  });

  it('does not echo a key that is not plain text', () => {
    const text = problem(String.raw`{"<script>\n":1,"<script>\n":2}`) ?? '';
    assert.match(text, /a key appears twice/);
    assert.doesNotMatch(text, /script/);
  });
});
