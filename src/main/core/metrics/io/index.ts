export { FileFormatError, DEFAULT_MAX_ERRORS, type FileProblem } from './file-format-error';
export { SAMPLES_FORMATS, type SamplesFormat, type SamplesFile, type ReadProgress } from './samples-file-types';
export { parseTimestamp, snapToGrid, EPOCH_SECONDS_LIMIT } from './timestamp';
export { parseMetricValue } from './samples-check';
export {
  CsvSamplesParser,
  parseCsvSamples,
  readCsvSamples,
  type CsvParseOptions,
  type CsvReadOptions,
  type SingleSeriesTarget,
} from './csv-import';
export { formatCsv, formatMetricValue, type CsvWriteOptions } from './csv-write';
export {
  CONTRACT_METADATA_KEY,
  arrowIPCToSamples,
  arrowTableToSamples,
  columnsToArrowIPC,
  columnsToArrowTable,
  type ArrowReadOptions,
  type ColumnsToArrowOptions,
} from './arrow-io';
export { columnsToParquet, parquetToSamples, type ColumnsToParquetOptions, type ParquetCompression } from './parquet-io';
export {
  encodeSamples,
  formatFromExtension,
  readSamplesFile,
  sniffSamplesFormat,
  writeSamplesFile,
  type ReadSamplesOptions,
  type WriteSamplesOptions,
} from './samples-file';
