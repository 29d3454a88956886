import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { cp, rename } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ApiError, type EventBus } from '@shared/contract';
import {
  BUNDLED_MODEL_ID,
  MODEL_FOLDER_NAME,
  type ModelEntry,
  type ModelEvaluation,
  type ModelList,
  type ModelSelector,
} from '@shared/domain';
import { TFT_INPUT_FIELDS } from '../model/export/feeds';
import { ModelRegistry, verifyModelFolder, type ModelManifest } from '../model/folder';
import type { ActiveModelSetting } from '../settings/active-model';
import type { Logger } from '../util/logger';
import { readEvaluationFile } from './evaluation-summary';
import type { TrainingJobs } from './training-jobs';

/** What the manager needs of the live predictor (FleetPredictor). */
export interface SwitchablePredictor {
  switchModel(dir: string): Promise<void>;
  modelInfo(): { source: 'preferred' | 'bundled'; name: string; version: string } | null;
}

export interface ModelManagerOptions {
  /** `<dataDir>/models`. */
  modelsRoot: string;
  /** The bundled model folder; null when the core runs without a model (predictions off). */
  bundledDir: string | null;
  /** The preferred folder the predictor started with (the persisted choice, or `serve --model`). */
  startedWith: string | null;
  predictor: SwitchablePredictor;
  setting: ActiveModelSetting;
  events: EventBus;
  logger: Logger;
  jobs: TrainingJobs;
}

/**
 * The Models view's service: every model folder under models/ plus the bundled one, which one
 * serves, activation (validated by the folder loader, switched live by the predictor, persisted),
 * deletion. Activations run one at a time.
 */
export class ModelManager {
  private readonly registry: ModelRegistry;
  /** The preferred folder the predictor serves when its source is `preferred`. */
  private preferredDir: string | null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ModelManagerOptions) {
    this.registry = new ModelRegistry(options.modelsRoot);
    this.preferredDir = options.startedWith === null ? null : resolve(options.startedWith);
  }

  /** The folder predictions run on now, or null when none is loaded. */
  activeDir(): string | null {
    const info = this.options.predictor.modelInfo();
    if (!info) return null;
    if (info.source === 'bundled') return this.options.bundledDir === null ? null : resolve(this.options.bundledDir);
    return this.preferredDir;
  }

  /** The active model for a training job's comparison. */
  activeForComparison(): { id: string; dir: string; name: string; version: string } | null {
    const info = this.options.predictor.modelInfo();
    const dir = this.activeDir();
    if (!info || dir === null) return null;
    return { id: this.idOf(dir), dir, name: info.name, version: info.version };
  }

  async list(): Promise<ModelList> {
    const active = this.activeDir();
    const jobsByDir = new Map<string, { id: string; evaluation: ModelEvaluation | null }>();
    const evaluationsByDir = new Map<string, ModelEvaluation>();
    // Oldest first, so the newest evaluation of a folder wins.
    for (const job of [...this.options.jobs.list()].reverse()) {
      if (job.model) jobsByDir.set(resolve(job.model.dir), { id: job.id, evaluation: job.evaluation });
      if (job.activeEvaluation) {
        const dir = this.dirOfId(job.activeEvaluation.id);
        if (dir !== null) evaluationsByDir.set(dir, job.activeEvaluation.evaluation);
      }
    }
    const entries: ModelEntry[] = [];
    const add = async (id: string, dir: string, source: ModelEntry['source'], listed?: { manifest: ModelManifest } | { error: Error }): Promise<void> => {
      let result = listed;
      if (!result) {
        try {
          result = { manifest: (await verifyModelFolder(dir)).manifest };
        } catch (error) {
          result = { error: error instanceof Error ? error : new Error(String(error)) };
        }
      }
      const file = readEvaluationFile(dir);
      const fromJob = jobsByDir.get(dir);
      const evaluation = file?.evaluation ?? fromJob?.evaluation ?? evaluationsByDir.get(dir) ?? null;
      entries.push(toEntry(id, dir, source, dir === active, result, evaluation, file?.job ?? fromJob?.id ?? null));
    };
    if (this.options.bundledDir !== null) await add(BUNDLED_MODEL_ID, resolve(this.options.bundledDir), 'bundled');
    for (const l of await this.registry.list()) {
      await add(l.folder, l.dir, 'models-folder', l.ok ? { manifest: l.manifest } : { error: l.error });
    }
    if (active !== null && !entries.some((e) => e.dir === active)) await add(active, active, 'external');
    // Newest first, the bundled model last.
    entries.sort((a, b) =>
      a.source === 'bundled' ? 1 : b.source === 'bundled' ? -1 : (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id),
    );
    return { models: entries, active: active === null ? null : this.idOf(active), runningJob: this.options.jobs.runningId() };
  }

  /** model.activate: check, switch the live predictor, persist. Refused: conflict, the old model serving. */
  activate(selector: ModelSelector): Promise<ModelList> {
    const next = this.queue.then(() => this.activateNow(selector));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async activateNow(selector: ModelSelector): Promise<ModelList> {
    const bundled = this.options.bundledDir === null ? null : resolve(this.options.bundledDir);
    const dir = await this.resolveSelector(selector, bundled);
    if (bundled === null) throw new ApiError('unavailable', 'predictions are off in this runtime: no model is configured');
    const serving = this.describeActive();
    try {
      await verifyModelFolder(dir);
    } catch (error) {
      throw new ApiError('conflict', `model refused: ${errorText(error)}; ${serving} keeps serving`);
    }
    try {
      await this.options.predictor.switchModel(dir);
    } catch (error) {
      throw new ApiError('conflict', `model refused: ${errorText(error)}; ${serving} keeps serving`);
    }
    this.preferredDir = dir === bundled ? null : dir;
    this.options.setting.set(this.preferredDir);
    const id = this.idOf(dir);
    this.options.logger.info('model activated', { id, dir });
    this.options.events.emit('model.changed', { change: 'activated', id, active: id });
    return this.list();
  }

  /** model.delete: a folder under models/, never the bundled or the active one. */
  async delete(name: string): Promise<ModelList> {
    if (name === BUNDLED_MODEL_ID) throw new ApiError('conflict', 'the bundled model cannot be deleted');
    if (!MODEL_FOLDER_NAME.test(name)) throw new ApiError('invalid_input', `name: "${name}" is not a model folder name`, [{ path: 'name', message: 'not a model folder name' }]);
    const dir = join(resolve(this.options.modelsRoot), name);
    if (!isDir(dir)) throw new ApiError('not_found', `no model folder models/${name}`);
    if (dir === this.activeDir()) throw new ApiError('conflict', `models/${name} is the active model: activate another one first`);
    // Out of sight in one step, then removed: a crash leaves a hidden folder the registry skips.
    const aside = join(resolve(this.options.modelsRoot), `.${name}.deleted-${randomBytes(4).toString('hex')}`);
    await rename(dir, aside);
    rmSync(aside, { recursive: true, force: true });
    if (this.options.setting.get() === dir) this.options.setting.set(null);
    this.options.logger.info('model deleted', { dir });
    this.options.events.emit('model.changed', { change: 'deleted', id: name, active: this.activeId() });
    return this.list();
  }

  /**
   * model.import: a folder from elsewhere, checked (checksum, contract, manifest, the inputs the
   * prediction loop feeds), copied into a hidden folder, checked again, then renamed into models/
   * in one step. Named after its folder when that is a valid, free name, else tft_model_<version>.
   */
  async import(dirIn: string): Promise<ModelList> {
    const source = resolve(dirIn);
    if (!isDir(source)) throw new ApiError('not_found', `dir: no folder ${source}`);
    const manifest = await this.checkImportable(source);
    const root = resolve(this.options.modelsRoot);
    if (source === root || resolve(source, '..') === root) throw new ApiError('conflict', `${source} is already under models/`);
    const own = basename(source);
    const name = MODEL_FOLDER_NAME.test(own) && own !== BUNDLED_MODEL_ID ? own : `tft_model_${manifest.version.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    const target = join(root, name);
    if (existsSync(target)) throw new ApiError('conflict', `models/${name} already exists: delete it first, or import a folder with another name`);
    const staging = join(root, `.${name}.import-${randomBytes(4).toString('hex')}`);
    try {
      await cp(source, staging, { recursive: true, errorOnExist: true });
      await this.checkImportable(staging);
      await rename(staging, target);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    this.options.logger.info('model imported', { from: source, to: target });
    this.options.events.emit('model.changed', { change: 'added', id: name, active: this.activeId() });
    return this.list();
  }

  /** model.export: a verified copy of a model folder into an existing folder, never over one. */
  async export(name: string, toDir: string): Promise<{ dir: string; sha256: string }> {
    const bundled = this.options.bundledDir === null ? null : resolve(this.options.bundledDir);
    const source = await this.resolveSelector({ name }, bundled);
    const manifest = await this.checkImportable(source);
    const parent = resolve(toDir);
    if (!isDir(parent)) throw new ApiError('not_found', `dir: no folder ${parent}`);
    const target = join(parent, name === BUNDLED_MODEL_ID ? `tft_model_${manifest.version}` : basename(source));
    if (existsSync(target)) throw new ApiError('conflict', `${target} already exists`);
    const staging = join(parent, `.${basename(target)}.export-${randomBytes(4).toString('hex')}`);
    try {
      await cp(source, staging, { recursive: true, errorOnExist: true });
      await this.checkImportable(staging);
      await rename(staging, target);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    this.options.logger.info('model exported', { from: source, to: target });
    return { dir: target, sha256: manifest.onnx.sha256 };
  }

  /** The loader's checks plus the inputs and outputs the prediction loop needs; conflict with the reason. */
  private async checkImportable(dir: string): Promise<ModelManifest> {
    let manifest: ModelManifest;
    try {
      manifest = (await verifyModelFolder(dir)).manifest;
    } catch (error) {
      throw new ApiError('conflict', `model refused: ${errorText(error)}`);
    }
    const inputs = manifest.onnx.inputs.map((t) => t.name);
    const expected = Object.keys(TFT_INPUT_FIELDS);
    const unknown = inputs.filter((n) => !expected.includes(n));
    const missing = expected.filter((n) => !inputs.includes(n));
    if (unknown.length > 0 || missing.length > 0)
      throw new ApiError(
        'conflict',
        `model refused: ${dir}, model.json, onnx.inputs: ${[unknown.length > 0 ? `unknown inputs ${unknown.join(', ')}` : '', missing.length > 0 ? `missing inputs ${missing.join(', ')}` : ''].filter(Boolean).join('; ')}`,
      );
    return manifest;
  }

  /** A training job wrote a new folder. */
  added(id: string): void {
    this.options.events.emit('model.changed', { change: 'added', id, active: this.activeId() });
  }

  private activeId(): string | null {
    const dir = this.activeDir();
    return dir === null ? null : this.idOf(dir);
  }

  private describeActive(): string {
    const info = this.options.predictor.modelInfo();
    return info ? `${info.name} ${info.version}` : 'the previous state (no model)';
  }

  private idOf(dir: string): string {
    const d = resolve(dir);
    if (this.options.bundledDir !== null && d === resolve(this.options.bundledDir)) return BUNDLED_MODEL_ID;
    const root = resolve(this.options.modelsRoot);
    if (resolve(d, '..') === root) return d.slice(root.length + 1);
    return d;
  }

  private dirOfId(id: string): string | null {
    if (id === BUNDLED_MODEL_ID) return this.options.bundledDir === null ? null : resolve(this.options.bundledDir);
    if (MODEL_FOLDER_NAME.test(id)) return join(resolve(this.options.modelsRoot), id);
    return resolve(id);
  }

  private async resolveSelector(selector: ModelSelector, bundled: string | null): Promise<string> {
    if (selector.dir !== undefined) {
      const dir = resolve(selector.dir);
      if (!isDir(dir)) throw new ApiError('not_found', `dir: no folder ${dir}`);
      return dir;
    }
    const name = selector.name!;
    if (name === BUNDLED_MODEL_ID) {
      if (bundled === null) throw new ApiError('unavailable', 'predictions are off in this runtime: no model is configured');
      return bundled;
    }
    if (MODEL_FOLDER_NAME.test(name)) {
      const dir = join(resolve(this.options.modelsRoot), name);
      if (isDir(dir)) return dir;
    }
    // A model's version ("20261126_224832") names its folder too.
    for (const l of await this.registry.list()) if (l.ok && l.manifest.version === name) return l.dir;
    throw new ApiError('not_found', `name: no model "${name}" under models/ (nor the bundled one)`);
  }
}

function isDir(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toEntry(
  id: string,
  dir: string,
  source: ModelEntry['source'],
  active: boolean,
  result: { manifest: ModelManifest } | { error: Error },
  evaluation: ModelEvaluation | null,
  job: string | null,
): ModelEntry {
  if ('error' in result)
    return {
      id,
      dir,
      source,
      active,
      ok: false,
      error: result.error.message,
      name: null,
      version: null,
      createdAt: null,
      contractVersion: null,
      sha256: null,
      sizeBytes: null,
      data: null,
      settings: null,
      training: null,
      evaluation,
      job,
    };
  const m = result.manifest;
  const t = m.training;
  return {
    id,
    dir,
    source,
    active,
    ok: true,
    error: null,
    name: m.name,
    version: m.version,
    createdAt: m.createdAt,
    contractVersion: m.contractVersion,
    sha256: m.onnx.sha256,
    sizeBytes: m.onnx.sizeBytes,
    data: {
      description: t.dataset.description,
      servers: t.dataset.servers,
      profiles: [...t.dataset.profiles],
      from: t.dataset.timeRange.start,
      to: t.dataset.timeRange.end,
      windows: { train: t.dataset.windows.train, validation: t.dataset.windows.validation },
    },
    settings: { ...m.hyperParameters },
    training: {
      backend: t.backend,
      durationMs: t.durationMs,
      epochsRun: t.epochsRun,
      bestEpoch: t.bestEpoch,
      samplesPerSecond: t.samplesPerSecond,
      finalTrainLoss: t.finalTrainLoss,
      finalValidationLoss: t.finalValidationLoss ?? null,
    },
    evaluation,
    job,
  };
}
