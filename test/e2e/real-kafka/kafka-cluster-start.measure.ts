// A measurement, not a test (KTS_STORAGE_MEASURE=1 npx vitest run test/e2e/real-kafka/kafka-cluster-start.measure.ts):
// how long the three-node Kafka 4.4 cluster of kts-tools-on-kafka4.test.ts takes to start and stop,
// and each node's memory (RSS) and CPU seconds when ready. CPU seconds hardly depend on the load of
// the machine; wall time does. SIZE=<n> and HEAP=<-Xmx> vary the cluster; HOLD=1 keeps it running,
// its bootstrap servers in $TMPDIR/kts-kafka-cluster, until that file is removed (for trying tools by hand).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { KAFKA_4, startRealKafkaCluster } from '../../helpers/real-kafka.js';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
};

it('three-node Kafka 4.4 cluster: start, memory, stop', async () => {
  const started = Date.now();
  const cluster = await startRealKafkaCluster(KAFKA_4, { heap: process.env.HEAP || '256m', size: Number(process.env.SIZE || 3) });
  console.log(
    `ready in ${Date.now() - started} ms; RSS ${cluster.nodes.map((n) => rssMb(n.pid).toFixed(0)).join(' ')} MB; ` +
      `CPU ${cluster.nodes.map((n) => cpuSeconds(n.pid).toFixed(1)).join(' ')} s`,
  );
  if (process.env.HOLD) {
    const file = join(tmpdir(), 'kts-kafka-cluster');
    writeFileSync(file, cluster.bootstrap);
    while (existsSync(file)) await new Promise((r) => setTimeout(r, 500));
  }
  const stopping = Date.now();
  await cluster.stop();
  console.log(`stopped in ${Date.now() - stopping} ms`);
}, 3_600_000);
