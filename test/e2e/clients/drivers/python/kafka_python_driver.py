# The kafka-python driver of the client matrix (protocol.md).
import logging
import sys
import time

import kafka
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from common import emit, from_hex, main, result, to_hex, unsupported


def base(c):
    return {'bootstrap_servers': c['bootstrap'], 'client_id': 'matrix-kafka-python'}


def produce_all(c, records, **extra):
    producer = KafkaProducer(**base(c), acks='all', linger_ms=20, **extra)
    futures = [producer.send(c['topic'], partition=0, **r) for r in records]
    for f in futures:
        f.get(timeout=30)
    producer.close()


def read_from_start(c, count):
    consumer = KafkaConsumer(**base(c), enable_auto_commit=False)
    tp = TopicPartition(c['topic'], 0)
    consumer.assign([tp])
    consumer.seek(tp, 0)
    out = []
    deadline = time.time() + 60
    while len(out) < count and time.time() < deadline:
        for batch in consumer.poll(500).values():
            out.extend(batch)
    consumer.close()
    if len(out) < count:
        raise RuntimeError(f'read {len(out)} of {count} records')
    return out[:count]


def metadata(c):
    client = KafkaAdminClient(**base(c))
    cluster = client.describe_cluster()
    topic = client.describe_topics([c['topic']])[0]
    client.close()
    result(brokers=[{'id': b['broker_id'], 'host': b['host'], 'port': b['port']} for b in cluster['brokers']],
           partitions=[{'partition': p['partition_index'], 'leader': p['leader_id']} for p in topic['partitions']])


def produce(c):
    produce_all(c, [{'key': from_hex(r['key']), 'value': from_hex(r['value']),
                     'headers': [(k, from_hex(v)) for k, v in r['headers']]} for r in c['records']])
    result()


def fetch(c):
    records = read_from_start(c, c['count'])
    result(records=[{'offset': m.offset, 'timestamp': m.timestamp, 'key': to_hex(m.key), 'value': to_hex(m.value),
                     'headers': [[k, to_hex(v)] for k, v in (m.headers or [])]} for m in records])


def offsets(c):
    consumer = KafkaConsumer(**base(c))
    tp = TopicPartition(c['topic'], 0)
    earliest = consumer.beginning_offsets([tp])[tp]
    latest = consumer.end_offsets([tp])[tp]
    by_time = []
    for t in c['times']:
        found = consumer.offsets_for_times({tp: t})[tp]
        by_time.append(None if found is None else found.offset)
    consumer.close()
    result(earliest=earliest, latest=latest, byTime=by_time)


def group(c):
    if c['protocol'] != 'classic':
        return unsupported(f'kafka-python {kafka.__version__} has only the classic group protocol (no KIP-848)')
    # The member's joins, syncs and their errors on stderr: what a test prints when it waits in vain.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format='%(asctime)s %(name)s %(levelname)s %(message)s')
    logging.getLogger('kafka.coordinator').setLevel(logging.INFO)
    consumer = KafkaConsumer(**base(c), group_id=c['group'], auto_offset_reset='earliest', enable_auto_commit=False,
                             session_timeout_ms=6000, heartbeat_interval_ms=500, fetch_max_wait_ms=100)
    consumer.subscribe([c['topic']])
    # Know the topic's partitions before the first JoinGroup, so that this member's first
    # assignment (as leader) is already complete. Otherwise the metadata arriving after it asks for
    # a second rebalance, and kafka-python 3.0.12 loses that one when its SyncGroup answer comes
    # after poll(200) has given up (a loaded machine): the leader's own assignment makes
    # need_rejoin() false, the finished join is never collected, the member stops heartbeating and
    # never rejoins once the broker expires it (kafka-python-rejoin.test.ts makes that timing certain).
    consumer.partitions_for_topic(c['topic'])
    last = None
    while True:
        for batch in consumer.poll(200).values():
            for m in batch:
                emit('record', partition=m.partition, offset=m.offset)
            consumer.commit()
        now = sorted(tp.partition for tp in consumer.assignment() if tp.topic == c['topic'])
        if now != last:
            last = now
            emit('assigned', partitions=now)


def admin(c):
    client = KafkaAdminClient(**base(c))
    client.create_topics([NewTopic(c['topic'], num_partitions=3, replication_factor=1)])
    described = client.describe_topics([c['topic']])[0]
    client.delete_topics([c['topic']])
    client.close()
    result(partitions=len(described['partitions']))


def codec(c):
    produce_all(c, [{'value': v.encode()} for v in c['values']], compression_type=c['codec'])
    result(values=[m.value.decode() for m in read_from_start(c, len(c['values']))])


def idempotent(c):
    produce_all(c, [{'value': from_hex(v)} for v in c['values']], enable_idempotence=True)
    result()


main({
    'version': lambda c: result(version=kafka.__version__),
    'metadata': metadata, 'produce': produce, 'fetch': fetch, 'offsets': offsets, 'group': group,
    'admin': admin, 'codec': codec, 'idempotent': idempotent,
})
