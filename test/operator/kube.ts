/** Re-exports of the kube harness helpers the operator tests use. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { adminConfig, createNamespace, eventually, tool } from '../kube/support.js';
export const REPO_ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
