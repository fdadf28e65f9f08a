// The generated schema data: names, keys and version ranges as Kafka 3.9 defines them.
import { describe, expect, it } from 'vitest';
import { API_SCHEMAS, ApiKey, apiName, apiSchemas, isFlexible, schemaVersions } from '../../../src/protocol/index.js';

describe('generated schemas', () => {
  it('ApiKey maps every name to its key, and apiName maps back', () => {
    expect(ApiKey).toMatchObject({ Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, SaslHandshake: 17, ApiVersions: 18, CreateTopics: 19, SaslAuthenticate: 36, DescribeCluster: 60, ConsumerGroupHeartbeat: 68 });
    expect(Object.keys(ApiKey)).toHaveLength(API_SCHEMAS.length);
    expect(API_SCHEMAS.map((a) => a.apiKey)).toEqual([...Array(88).keys()]); // 0..87, no gaps in 3.9
    for (const [name, key] of Object.entries(ApiKey)) {
      expect(apiName(key)).toBe(name);
      expect(apiSchemas(key)!.request.name).toBe(`${name}Request`);
      expect(apiSchemas(key)!.response.name).toBe(`${name}Response`);
    }
    expect(apiName(999)).toBeUndefined();
    expect(schemaVersions(999)).toBeUndefined();
  });

  it('version ranges and first flexible versions (docs/protocol-compat.md, 3.9 column; 4.4 maxima for the overlaid APIs, their 3.9 minima kept)', () => {
    const expected: [string, number, number][] = [
      ['ApiVersions', 5, 3], ['Metadata', 13, 9], ['Produce', 13, 9], ['Fetch', 18, 12], ['ListOffsets', 11, 6],
      ['OffsetCommit', 10, 8], ['OffsetFetch', 10, 6], ['FindCoordinator', 6, 3], ['JoinGroup', 9, 6], ['SyncGroup', 5, 4],
      ['Heartbeat', 4, 4], ['LeaveGroup', 5, 4], ['ListGroups', 5, 3], ['DescribeGroups', 6, 5], ['DeleteGroups', 3, 2],
      ['CreateTopics', 7, 5], ['DeleteTopics', 6, 4], ['InitProducerId', 5, 2], ['SaslAuthenticate', 2, 2], ['DescribeCluster', 2, 0],
    ];
    for (const [name, max, flexibleMin] of expected) {
      expect(schemaVersions(ApiKey[name as keyof typeof ApiKey]), name).toEqual({ min: 0, max, flexibleMin });
    }
    expect(schemaVersions(ApiKey.SaslHandshake)).toEqual({ min: 0, max: 1, flexibleMin: Infinity });
    expect(schemaVersions(ApiKey.OffsetDelete)!.flexibleMin).toBe(Infinity);
    expect(isFlexible(ApiKey.ApiVersions, 2)).toBe(false);
    expect(isFlexible(ApiKey.ApiVersions, 3)).toBe(true);
    expect(isFlexible(ApiKey.SaslHandshake, 1)).toBe(false);
  });

  it('records the schema flags the broker needs (deprecated, unstable latest version)', () => {
    // (Produce's came from 3.9's file; Kafka 4.4's overlay, with v0-2 put back, has none)
    expect(apiSchemas(ApiKey.CreateTopics)!.request.deprecatedVersions).toEqual([0, 1]);
    expect(apiSchemas(ApiKey.ListOffsets)!.request.latestVersionUnstable).toBeUndefined(); // false in the file
    expect(apiSchemas(ApiKey.ShareFetch)!.request.latestVersionUnstable).toBe(true);
    expect(apiSchemas(ApiKey.Metadata)!.request.latestVersionUnstable).toBeUndefined();
    expect(apiSchemas(ApiKey.CreateTopics)!.request.listeners).toEqual(['zkBroker', 'broker', 'controller']);
  });
});
