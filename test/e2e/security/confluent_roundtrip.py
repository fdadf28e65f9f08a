# confluent-kafka-python (librdkafka) over a secured listener: produce the given values, then read
# them back from the beginning. argv[1]: JSON {bootstrap, topic, values, conf (librdkafka keys)}.
# Prints {"consumed": [...]} or {"error": "..."} and exits 0 or 2.
import json, sys, time
from confluent_kafka import Consumer, Producer, KafkaError

spec = json.loads(sys.argv[1])
base = dict(spec['conf'])
base['bootstrap.servers'] = spec['bootstrap']
errors = []
def fail(msg):
    print(json.dumps({'error': str(msg)}))
    sys.exit(2)
def on_error(err):
    # Authentication and TLS failures are fatal for the test: report the first one.
    if err.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
        errors.append(err)

producer = Producer({**base, 'error_cb': on_error, 'message.timeout.ms': 10000})
delivered = []
for v in spec['values']:
    producer.produce(spec['topic'], v.encode(), on_delivery=lambda err, msg: delivered.append(err))
deadline = time.time() + 15
while len(delivered) < len(spec['values']) and time.time() < deadline:
    producer.poll(0.1)
    if errors: fail(errors[0])
if errors: fail(errors[0])
bad = [e for e in delivered if e is not None]
if bad or len(delivered) < len(spec['values']): fail(bad[0] if bad else 'delivery timed out')

consumer = Consumer({**base, 'error_cb': on_error, 'group.id': spec['topic'] + '-py', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
consumer.subscribe([spec['topic']])
got = []
deadline = time.time() + 20
while len(got) < len(spec['values']) and time.time() < deadline:
    m = consumer.poll(0.2)
    if errors: fail(errors[0])
    if m is None: continue
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF: continue
        fail(m.error())
    got.append(m.value().decode())
consumer.close()
print(json.dumps({'consumed': got}))
