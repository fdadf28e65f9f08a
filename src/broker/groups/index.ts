// The group coordinator (classic protocol) and the API handlers that reach it. The broker's
// handler registry imports `groupHandlers`.
import type { ApiHandler } from '../api-handler.js';
import offsetCommit from '../handlers/08-offset-commit.js';
import offsetFetch from '../handlers/09-offset-fetch.js';
import findCoordinator from '../handlers/10-find-coordinator.js';
import joinGroup from '../handlers/11-join-group.js';
import heartbeat from '../handlers/12-heartbeat.js';
import leaveGroup from '../handlers/13-leave-group.js';
import syncGroup from '../handlers/14-sync-group.js';
import describeGroups from '../handlers/15-describe-groups.js';
import listGroups from '../handlers/16-list-groups.js';
import deleteGroups from '../handlers/42-delete-groups.js';
import offsetDelete from '../handlers/47-offset-delete.js';
import consumerGroupHeartbeat from '../handlers/68-consumer-group-heartbeat.js';
import consumerGroupDescribe from '../handlers/69-consumer-group-describe.js';

export { GroupCoordinator, type GroupCoordinatorOptions } from './coordinator.js';
export { MemoryCoordinatorLog, type CoordinatorLog, type CoordinatorRecord } from './store.js';
export { partitionForGroup } from './records.js';
export type * from './types.js';

export const groupHandlers: ApiHandler[] = [
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
];
