// Finds and checks every model under a models directory: `<dir>/<id>/model-card.json` beside the ONNX
// file it names. A folder without a card (e.g. `training/`) is not a model and is skipped; any other
// problem refuses the whole registry, so a service never starts with a model it cannot trust.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ModelCardError } from './errors.js';
import { parseModelCard, type ModelCard } from './model-card.js';

export const CARD_FILE = 'model-card.json';

export interface LoadedModel {
  card: ModelCard;
  /** Absolute path of the model's folder. */
  folder: string;
  cardFile: string;
  onnxFile: string;
}

export interface ModelRegistry {
  readonly dir: string;
  /** By card id, in folder-name order. */
  readonly models: ReadonlyMap<string, LoadedModel>;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface LoadFolderOptions {
  /** In a models directory the folder must be named after the card's id; a site's staging folder need not be. */
  requireFolderName: boolean;
}

/** Loads and checks one model folder: card schema and rules, then the ONNX file's sha256. */
export async function loadModelFolder(folder: string, options: LoadFolderOptions): Promise<LoadedModel> {
  const absolute = resolve(folder);
  const cardFile = join(absolute, CARD_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cardFile, 'utf8'));
  } catch (error) {
    throw new ModelCardError(cardFile, `cannot be read as JSON (${(error as Error).message})`);
  }
  const card = parseModelCard(json, cardFile);
  if (options.requireFolderName && card.id !== basename(absolute)) {
    throw new ModelCardError(cardFile, `id "${card.id}" must equal its folder's name "${basename(absolute)}"`);
  }
  const onnxFile = join(absolute, card.artifact.file);
  let actual: string;
  try {
    actual = await sha256OfFile(onnxFile);
  } catch (error) {
    throw new ModelCardError(onnxFile, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); artifact.file names it`);
  }
  if (actual !== card.artifact.sha256) {
    throw new ModelCardError(onnxFile, `sha256 is ${actual} but artifact.sha256 in the card says ${card.artifact.sha256}; refusing a model that is not the one described`);
  }
  return { card, folder: absolute, cardFile, onnxFile };
}

/** Loads every model folder under `dir`. Throws ModelCardError on the first problem. */
export async function loadModelRegistry(dir: string): Promise<ModelRegistry> {
  const absolute = resolve(dir);
  let entries;
  try {
    entries = await readdir(absolute, { withFileTypes: true });
  } catch (error) {
    throw new ModelCardError(absolute, `models directory cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const folders = entries.filter((e) => e.isDirectory()).map((e) => join(absolute, e.name)).sort();
  const models = new Map<string, LoadedModel>();
  for (const folder of folders) {
    if (!(await exists(join(folder, CARD_FILE)))) continue;
    const model = await loadModelFolder(folder, { requireFolderName: true });
    models.set(model.card.id, model);
  }
  return { dir: absolute, models };
}
