// The franz-go (kgo, kadm) driver of the client matrix (protocol.md).
package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	. "kts/matrix-drivers/common"
)

var ctx = context.Background()

func client(c Config, opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap), kgo.ClientID("matrix-franz-go"), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	Check(err)
	return cl
}

func produceAll(c Config, records []*kgo.Record, opts ...kgo.Opt) {
	cl := client(c, append([]kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(20 * time.Millisecond)}, opts...)...)
	defer cl.Close()
	for _, r := range records {
		r.Topic = c.Topic
		r.Partition = 0
	}
	Check(cl.ProduceSync(ctx, records...).FirstErr())
}

func readFromStart(c Config, count int) []*kgo.Record {
	cl := client(c, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: {0: kgo.NewOffset().At(0)}}), kgo.FetchMaxWait(200*time.Millisecond))
	defer cl.Close()
	var out []*kgo.Record
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(out) < count {
		fetches := cl.PollFetches(deadline)
		if deadline.Err() != nil {
			Check(fmt.Errorf("read %d of %d records", len(out), count))
		}
		Check(fetches.Err())
		out = append(out, fetches.Records()...)
	}
	return out[:count]
}

func main() {
	scenario, c := Args()
	switch scenario {
	case "version":
		Result(map[string]any{"version": ModuleVersion("github.com/twmb/franz-go")})
	case "metadata":
		adm := kadm.NewClient(client(c))
		md, err := adm.Metadata(ctx, c.Topic)
		Check(err)
		var brokers, partitions []map[string]any
		for _, b := range md.Brokers {
			brokers = append(brokers, map[string]any{"id": b.NodeID, "host": b.Host, "port": b.Port})
		}
		for _, p := range md.Topics[c.Topic].Partitions.Sorted() {
			partitions = append(partitions, map[string]any{"partition": p.Partition, "leader": p.Leader})
		}
		Result(map[string]any{"brokers": brokers, "partitions": partitions})
	case "produce":
		var records []*kgo.Record
		for _, r := range c.Records {
			rec := &kgo.Record{Key: FromHex(r.Key), Value: FromHex(r.Value)}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h[0], Value: MustHex(h[1])})
			}
			records = append(records, rec)
		}
		produceAll(c, records)
		Result(nil)
	case "fetch":
		var out []RecordOut
		for _, r := range readFromStart(c, c.Count) {
			headers := [][2]string{}
			for _, h := range r.Headers {
				headers = append(headers, [2]string{h.Key, *ToHex(h.Value)})
			}
			value := r.Value
			if value == nil {
				value = []byte{}
			}
			out = append(out, RecordOut{Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: ToHex(r.Key), Value: ToHex(value), Headers: headers})
		}
		Result(map[string]any{"records": out})
	case "offsets":
		adm := kadm.NewClient(client(c))
		start, err := adm.ListStartOffsets(ctx, c.Topic)
		Check(err)
		end, err := adm.ListEndOffsets(ctx, c.Topic)
		Check(err)
		var byTime []any
		for _, t := range c.Times {
			o, err := adm.ListOffsetsAfterMilli(ctx, t, c.Topic)
			Check(err)
			l, _ := o.Lookup(c.Topic, 0)
			Check(l.Err)
			if l.Offset < 0 {
				byTime = append(byTime, nil)
			} else {
				byTime = append(byTime, l.Offset)
			}
		}
		s, _ := start.Lookup(c.Topic, 0)
		e, _ := end.Lookup(c.Topic, 0)
		Result(map[string]any{"earliest": s.Offset, "latest": e.Offset, "byTime": byTime})
	case "group":
		group(c)
	case "admin":
		adm := kadm.NewClient(client(c))
		created, err := adm.CreateTopics(ctx, 3, 1, nil, c.Topic)
		Check(err)
		Check(created.Error())
		described, err := adm.ListTopics(ctx, c.Topic)
		Check(err)
		Check(described.Error())
		deleted, err := adm.DeleteTopics(ctx, c.Topic)
		Check(err)
		Check(deleted.Error())
		Result(map[string]any{"partitions": len(described[c.Topic].Partitions)})
	case "codec":
		codecs := map[string]kgo.CompressionCodec{"gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
		var records []*kgo.Record
		for _, v := range c.Values {
			records = append(records, &kgo.Record{Value: []byte(v)})
		}
		produceAll(c, records, kgo.ProducerBatchCompression(codecs[c.Codec]))
		var values []string
		for _, r := range readFromStart(c, len(c.Values)) {
			values = append(values, string(r.Value))
		}
		Result(map[string]any{"values": values})
	case "idempotent":
		// kgo's producer is idempotent unless DisableIdempotentWrite is given.
		var records []*kgo.Record
		for _, v := range c.Values {
			records = append(records, &kgo.Record{Value: MustHex(v)})
		}
		produceAll(c, records)
		Result(nil)
	default:
		Check(fmt.Errorf("unknown scenario %s", scenario))
	}
}

func group(c Config) {
	assigned := map[int32]bool{}
	report := func() {
		var now []int32
		for p := range assigned {
			now = append(now, p)
		}
		sort.Slice(now, func(i, j int) bool { return now[i] < now[j] })
		if now == nil {
			now = []int32{}
		}
		Emit("assigned", map[string]any{"partitions": now})
	}
	opts := []kgo.Opt{
		kgo.ConsumerGroup(c.Group), kgo.ConsumeTopics(c.Topic), kgo.DisableAutoCommit(), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			for _, p := range m[c.Topic] {
				assigned[p] = true
			}
			report()
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			for _, p := range m[c.Topic] {
				delete(assigned, p)
			}
			report()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			for _, p := range m[c.Topic] {
				delete(assigned, p)
			}
			report()
		}),
	}
	if c.Protocol == "consumer" {
		opts = append(opts, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	} else {
		opts = append(opts, kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(500*time.Millisecond))
	}
	cl := client(c, opts...)
	for {
		fetches := cl.PollFetches(ctx)
		fetches.EachError(func(t string, p int32, err error) { fmt.Printf("fetch error %s %d: %v\n", t, p, err) })
		records := fetches.Records()
		for _, r := range records {
			Emit("record", map[string]any{"partition": r.Partition, "offset": r.Offset})
		}
		if len(records) > 0 {
			Check(cl.CommitRecords(ctx, records...))
		}
	}
}
