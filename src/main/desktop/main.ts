/**
 * The Electron main-process entry (built to out/main/index.js). Deliberately only wiring: the
 * lifecycle lives in start-desktop.ts, which takes Electron as a parameter so it can be tested
 * without the Electron binary.
 */
import * as electron from 'electron';
import { bundledPredictWorker } from '../core/fleet/predict-worker-bundled';
import { bundledTrainWorker } from '../core/model/train/train-worker-bundled';
import { startDesktop } from './start-desktop';

startDesktop(electron, { mainDir: __dirname, env: process.env, predictWorker: bundledPredictWorker, trainWorker: bundledTrainWorker });
