import { ModelFolderError, type ModelFolderErrorCode } from '../folder/model-folder-error';
import { CheckpointError } from './checkpoint-file';
import type { TrainRunEvent, TrainRunSummary } from './run-training';
import { TrainingCancelled } from './train-model';
import type { TrainJob } from './train-request';
import { DatasetError } from './training-data';

/**
 * The training worker's messages. The job travels as the worker's `workerData`; the main thread
 * then only ever sends `cancel`. The worker sends the run's events, then exactly one of `done`
 * or `failed`, and ends. Everything is plain data (structured clone).
 */
export interface TrainWorkerInit {
  job: TrainJob;
}

/** Main -> worker. */
export type TrainWorkerRequest = { type: 'cancel'; reason: string };

/** Worker -> main. */
export type TrainWorkerMessage = TrainRunEvent | { type: 'done'; summary: TrainRunSummary } | { type: 'failed'; error: WireError };

/** An error as it crosses the thread: enough to rebuild the classes callers test for. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** ModelFolderError. */
  code?: string;
  dir?: string;
  file?: string | null;
  field?: string | null;
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const wire: WireError = { name: error.name, message: error.message };
  if (error.stack !== undefined) wire.stack = error.stack;
  if (error instanceof ModelFolderError) Object.assign(wire, { code: error.code, dir: error.dir, file: error.file, field: error.field });
  if (error instanceof CheckpointError) wire.file = error.file;
  return wire;
}

/**
 * Rebuilds DatasetError, TrainingCancelled, CheckpointError and ModelFolderError (same class,
 * same message); anything else becomes an Error with the worker's name, message and stack.
 */
export function fromWireError(wire: WireError): Error {
  let error: Error;
  switch (wire.name) {
    case 'DatasetError':
      error = new DatasetError(wire.message);
      break;
    case 'TrainingCancelled':
      error = new TrainingCancelled(wire.message);
      break;
    case 'CheckpointError': {
      const file = wire.file ?? '';
      const prefix = `${file}: `;
      error = new CheckpointError(file, wire.message.startsWith(prefix) ? wire.message.slice(prefix.length) : wire.message);
      break;
    }
    case 'ModelFolderError': {
      error = new ModelFolderError((wire.code ?? 'write_failed') as ModelFolderErrorCode, '', { dir: wire.dir ?? '', file: wire.file ?? null, field: wire.field ?? null });
      // The worker's message already has the location prefix: keep it as it was.
      error.message = wire.message;
      break;
    }
    default:
      error = new Error(wire.message);
      if (wire.name !== 'Error') error.name = wire.name;
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
