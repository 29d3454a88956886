/**
 * The sandboxed preload (built to out/preload/index.js, CommonJS): a sandboxed preload may only
 * require('electron'), so everything else is bundled in.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeApi } from './preload-api';

exposeApi(contextBridge, ipcRenderer);
