// The IBM sarama driver of the client matrix (protocol.md), with sarama's default protocol
// version (what an application gets without setting Config.Version).
package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	. "kts/matrix-drivers/common"
)

func config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "matrix-sarama"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	return cfg
}

func produceAll(c Config, msgs []*sarama.ProducerMessage, cfg *sarama.Config) {
	p, err := sarama.NewSyncProducer([]string{c.Bootstrap}, cfg)
	Check(err)
	defer p.Close()
	for _, m := range msgs {
		m.Topic = c.Topic
		m.Partition = 0
	}
	Check(p.SendMessages(msgs))
}

func readFromStart(c Config, count int) []*sarama.ConsumerMessage {
	consumer, err := sarama.NewConsumer([]string{c.Bootstrap}, config())
	Check(err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(c.Topic, 0, sarama.OffsetOldest)
	Check(err)
	defer pc.Close()
	var out []*sarama.ConsumerMessage
	timeout := time.After(60 * time.Second)
	for len(out) < count {
		select {
		case m := <-pc.Messages():
			out = append(out, m)
		case e := <-pc.Errors():
			Check(e)
		case <-timeout:
			Check(fmt.Errorf("read %d of %d records", len(out), count))
		}
	}
	return out
}

func bytesOrNil(b []byte) sarama.Encoder {
	if b == nil {
		return nil
	}
	return sarama.ByteEncoder(b)
}

func main() {
	scenario, c := Args()
	switch scenario {
	case "version":
		Result(map[string]any{"version": ModuleVersion("github.com/IBM/sarama")})
	case "metadata":
		cl, err := sarama.NewClient([]string{c.Bootstrap}, config())
		Check(err)
		defer cl.Close()
		var brokers, partitions []map[string]any
		for _, b := range cl.Brokers() {
			host, port, _ := strings.Cut(b.Addr(), ":")
			var portNumber int
			fmt.Sscan(port, &portNumber)
			brokers = append(brokers, map[string]any{"id": b.ID(), "host": host, "port": portNumber})
		}
		ids, err := cl.Partitions(c.Topic)
		Check(err)
		for _, p := range ids {
			leader, err := cl.Leader(c.Topic, p)
			Check(err)
			partitions = append(partitions, map[string]any{"partition": p, "leader": leader.ID()})
		}
		Result(map[string]any{"brokers": brokers, "partitions": partitions})
	case "produce":
		var msgs []*sarama.ProducerMessage
		for _, r := range c.Records {
			m := &sarama.ProducerMessage{Key: bytesOrNil(FromHex(r.Key)), Value: bytesOrNil(FromHex(r.Value))}
			for _, h := range r.Headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: MustHex(h[1])})
			}
			msgs = append(msgs, m)
		}
		produceAll(c, msgs, config())
		Result(nil)
	case "fetch":
		var out []RecordOut
		for _, m := range readFromStart(c, c.Count) {
			headers := [][2]string{}
			for _, h := range m.Headers {
				headers = append(headers, [2]string{string(h.Key), *ToHex(append([]byte{}, h.Value...))})
			}
			value := m.Value
			if value == nil {
				value = []byte{}
			}
			out = append(out, RecordOut{Offset: m.Offset, Timestamp: m.Timestamp.UnixMilli(), Key: ToHex(m.Key), Value: ToHex(value), Headers: headers})
		}
		Result(map[string]any{"records": out})
	case "offsets":
		cl, err := sarama.NewClient([]string{c.Bootstrap}, config())
		Check(err)
		defer cl.Close()
		at := func(t int64) any {
			o, err := cl.GetOffset(c.Topic, 0, t)
			Check(err)
			if o < 0 {
				return nil
			}
			return o
		}
		var byTime []any
		for _, t := range c.Times {
			byTime = append(byTime, at(t))
		}
		Result(map[string]any{"earliest": at(sarama.OffsetOldest), "latest": at(sarama.OffsetNewest), "byTime": byTime})
	case "group":
		if c.Protocol != "classic" {
			Unsupported("sarama " + ModuleVersion("github.com/IBM/sarama") + " has only the classic group protocol (no KIP-848)")
			return
		}
		cfg := config()
		cfg.Consumer.Offsets.AutoCommit.Enable = false
		cfg.Consumer.Group.Session.Timeout = 6 * time.Second
		cfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
		g, err := sarama.NewConsumerGroup([]string{c.Bootstrap}, c.Group, cfg)
		Check(err)
		for {
			Check(g.Consume(context.Background(), []string{c.Topic}, &member{topic: c.Topic}))
		}
	case "admin":
		adm, err := sarama.NewClusterAdmin([]string{c.Bootstrap}, config())
		Check(err)
		defer adm.Close()
		Check(adm.CreateTopic(c.Topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false))
		described, err := adm.DescribeTopics([]string{c.Topic})
		Check(err)
		if described[0].Err != sarama.ErrNoError {
			Check(described[0].Err)
		}
		Check(adm.DeleteTopic(c.Topic))
		Result(map[string]any{"partitions": len(described[0].Partitions)})
	case "codec":
		codecs := map[string]sarama.CompressionCodec{"gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
		cfg := config()
		cfg.Producer.Compression = codecs[c.Codec]
		var msgs []*sarama.ProducerMessage
		for _, v := range c.Values {
			msgs = append(msgs, &sarama.ProducerMessage{Value: sarama.StringEncoder(v)})
		}
		produceAll(c, msgs, cfg)
		var values []string
		for _, m := range readFromStart(c, len(c.Values)) {
			values = append(values, string(m.Value))
		}
		Result(map[string]any{"values": values})
	case "idempotent":
		cfg := config()
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		var msgs []*sarama.ProducerMessage
		for _, v := range c.Values {
			msgs = append(msgs, &sarama.ProducerMessage{Value: sarama.ByteEncoder(MustHex(v))})
		}
		produceAll(c, msgs, cfg)
		Result(nil)
	default:
		Check(fmt.Errorf("unknown scenario %s", scenario))
	}
}

// member is a consumer group handler: reports its claims, commits every message it reads.
type member struct {
	topic string
	mu    sync.Mutex
}

func (m *member) Setup(s sarama.ConsumerGroupSession) error {
	now := append([]int32{}, s.Claims()[m.topic]...)
	sort.Slice(now, func(i, j int) bool { return now[i] < now[j] })
	Emit("assigned", map[string]any{"partitions": now})
	return nil
}

func (m *member) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *member) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		m.mu.Lock()
		Emit("record", map[string]any{"partition": msg.Partition, "offset": msg.Offset})
		s.MarkMessage(msg, "")
		s.Commit()
		m.mu.Unlock()
	}
	return nil
}
