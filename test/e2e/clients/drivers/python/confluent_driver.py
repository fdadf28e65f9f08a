# The confluent-kafka-python driver of the client matrix (protocol.md): its bundled librdkafka.
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from common import emit, from_hex, main, result, to_hex


def base(c):
    return {'bootstrap.servers': c['bootstrap'], 'client.id': 'matrix-confluent-python'}


def produce_all(c, records, **extra):
    producer = Producer({**base(c), 'acks': 'all', 'linger.ms': 20, **extra})
    errors = []
    for r in records:
        producer.produce(c['topic'], partition=0, callback=lambda err, msg: err and errors.append(err), **r)
    left = producer.flush(30)
    if left or errors:
        raise RuntimeError(f'{left} undelivered, errors {errors}')


def read_from_start(c, count):
    consumer = Consumer({**base(c), 'group.id': c['topic'] + '-reader', 'enable.auto.commit': False})
    consumer.assign([TopicPartition(c['topic'], 0, 0)])
    out = []
    deadline = time.time() + 60
    while len(out) < count and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        out.append(msg)
    consumer.close()
    if len(out) < count:
        raise RuntimeError(f'read {len(out)} of {count} records')
    return out


def metadata(c):
    md = AdminClient(base(c)).list_topics(c['topic'], timeout=30)
    result(brokers=[{'id': b.id, 'host': b.host, 'port': b.port} for b in md.brokers.values()],
           partitions=[{'partition': p.id, 'leader': p.leader} for p in md.topics[c['topic']].partitions.values()])


def produce(c):
    produce_all(c, [{'key': from_hex(r['key']), 'value': from_hex(r['value']),
                     'headers': [(k, from_hex(v)) for k, v in r['headers']]} for r in c['records']])
    result()


def fetch(c):
    records = read_from_start(c, c['count'])
    result(records=[{'offset': m.offset(), 'timestamp': m.timestamp()[1], 'key': to_hex(m.key()), 'value': to_hex(m.value()),
                     'headers': [[k, to_hex(v)] for k, v in (m.headers() or [])]} for m in records])


def offsets(c):
    consumer = Consumer({**base(c), 'group.id': c['topic'] + '-offsets'})
    low, high = consumer.get_watermark_offsets(TopicPartition(c['topic'], 0), timeout=30)
    by_time = [consumer.offsets_for_times([TopicPartition(c['topic'], 0, t)], timeout=30)[0].offset for t in c['times']]
    consumer.close()
    result(earliest=low, latest=high, byTime=[None if o < 0 else o for o in by_time])


def group(c):
    conf = {**base(c), 'group.id': c['group'], 'group.protocol': c['protocol'], 'auto.offset.reset': 'earliest', 'enable.auto.commit': False}
    if c['protocol'] == 'classic':
        conf.update({'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500})
    consumer = Consumer(conf)
    consumer.subscribe([c['topic']])
    last = None
    while True:
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            emit('record', partition=msg.partition(), offset=msg.offset())
            consumer.commit(message=msg, asynchronous=False)
        elif msg is not None:
            print(f'consumer error: {msg.error()}', flush=True)
        now = sorted(tp.partition for tp in consumer.assignment() if tp.topic == c['topic'])
        if now != last:
            last = now
            emit('assigned', partitions=now)


def admin(c):
    client = AdminClient(base(c))
    for f in client.create_topics([NewTopic(c['topic'], 3, 1)]).values():
        f.result(30)
    described = client.describe_topics(TopicCollection([c['topic']]))[c['topic']].result(30)
    for f in client.delete_topics([c['topic']]).values():
        f.result(30)
    result(partitions=len(described.partitions))


def codec(c):
    produce_all(c, [{'value': v.encode()} for v in c['values']], **{'compression.type': c['codec']})
    result(values=[m.value().decode() for m in read_from_start(c, len(c['values']))])


def idempotent(c):
    produce_all(c, [{'value': from_hex(v)} for v in c['values']], **{'enable.idempotence': True})
    result()


main({
    'version': lambda c: result(version=confluent_kafka.__version__),
    'metadata': metadata, 'produce': produce, 'fetch': fetch, 'offsets': offsets, 'group': group,
    'admin': admin, 'codec': codec, 'idempotent': idempotent,
})
