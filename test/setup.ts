// Runs in every test file: after the file's own hooks (brokers stopped), its temp dirs go.
import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/broker.js';

afterAll(() => removeTempDirs());
