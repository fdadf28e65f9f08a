// FindCoordinator in whichever form the connection negotiated: one key (v0-3) or a batch of keys
// (v4+, KIP-699, here always one). The answer is the one coordinator either way.
import type { BrokerConnection } from './connection.js';
import { API } from './versions.js';

export interface FoundCoordinator {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
}

/** keyType 0: a group, 1: a transactional id. */
export async function findCoordinatorOn(conn: BrokerConnection, key: string, keyType: 0 | 1): Promise<FoundCoordinator> {
  const body = await conn.request(API.FindCoordinator, (v: number) => (v >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType }));
  const c = body.coordinators ? body.coordinators.find((x: { key: string }) => x.key === key) : body;
  if (!c) return { errorCode: -1, errorMessage: `FindCoordinator answered no coordinator for ${key}`, nodeId: -1 };
  return { errorCode: c.errorCode, errorMessage: c.errorMessage ?? null, nodeId: c.nodeId };
}
