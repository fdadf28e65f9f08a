// Package common is shared by the Go drivers of the client matrix: argv parsing and the JSON
// lines of protocol.md.
package common

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
)

// Config is the scenario's JSON argument.
type Config struct {
	Bootstrap string     `json:"bootstrap"`
	Topic     string     `json:"topic"`
	Group     string     `json:"group"`
	Protocol  string     `json:"protocol"`
	Codec     string     `json:"codec"`
	Count     int        `json:"count"`
	Times     []int64    `json:"times"`
	Values    []string   `json:"values"`
	Records   []RecordIn `json:"records"`
}

// RecordIn is a record to produce: hex bytes, nil key for null.
type RecordIn struct {
	Key     *string     `json:"key"`
	Value   *string     `json:"value"`
	Headers [][2]string `json:"headers"`
}

// RecordOut is a fetched record as the protocol prints it.
type RecordOut struct {
	Offset    int64       `json:"offset"`
	Timestamp int64       `json:"timestamp"`
	Key       *string     `json:"key"`
	Value     *string     `json:"value"`
	Headers   [][2]string `json:"headers"`
}

// Emit prints one protocol line.
func Emit(event string, fields map[string]any) {
	out := map[string]any{"event": event}
	for k, v := range fields {
		out[k] = v
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func Result(fields map[string]any) { Emit("result", fields) }

func Unsupported(reason string) { Emit("unsupported", map[string]any{"reason": reason}) }

// FromHex decodes a hex field: nil for null, an empty non-nil slice for "".
func FromHex(h *string) []byte {
	if h == nil {
		return nil
	}
	b, err := hex.DecodeString(*h)
	Check(err)
	if b == nil {
		b = []byte{}
	}
	return b
}

func MustHex(h string) []byte { return FromHex(&h) }

// ToHex encodes bytes for the protocol: null for nil.
func ToHex(b []byte) *string {
	if b == nil {
		return nil
	}
	s := hex.EncodeToString(b)
	return &s
}

// Check ends the driver with exit 1 on an error.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ModuleVersion is the version of a module the binary was built with.
func ModuleVersion(path string) string {
	info, _ := debug.ReadBuildInfo()
	for _, d := range info.Deps {
		if d.Path == path {
			return d.Version[1:]
		}
	}
	return "unknown"
}

// Args returns the scenario and its config.
func Args() (string, Config) {
	var c Config
	if len(os.Args) > 2 {
		Check(json.Unmarshal([]byte(os.Args[2]), &c))
	}
	return os.Args[1], c
}
