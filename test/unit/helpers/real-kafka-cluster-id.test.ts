// The harness's KRaft cluster ids: one starting with '-' made kafka-storage format read it as an
// option (a 1-in-64 start-up failure of the real-Kafka tests).
import { expect, it } from 'vitest';
import { randomClusterId } from '../../helpers/real-kafka.js';

it('cluster ids are 22 URL-safe base64 characters and never start with a dash', () => {
  const ids = Array.from({ length: 2000 }, randomClusterId);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  expect(new Set(ids).size).toBe(ids.length);
});
