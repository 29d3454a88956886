export { ImportService, fileError, type ImportServiceOptions, type ImportTargetInput } from './import-service';
export { UploadStore, type Upload, type UploadStoreOptions } from './upload-store';
