package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goldenCases run tbdump in-process over the fixtures; each golden
// holds stdout, then stderr and the exit status.
var goldenCases = []struct {
	name string
	args []string
}{
	{"torch113.txt", []string{fx("torch-1.13")}},
	{"torch113_python.txt", []string{"--purge=python", fx("torch-1.13")}},
	{"torch113_rust.txt", []string{"--purge", "rust", fx("torch-1.13")}},
	{"seed2022.txt", []string{fx("seed-2022")}},
	{"purge_variants_python.txt", []string{"--purge=python", fx("purge-variants")}},
	{"purge_variants_rust.txt", []string{"--purge=rust", fx("purge-variants")}},
	{"damaged.txt", []string{fx("damaged")}},
	{"damaged_events.txt", []string{"--events", fx("damaged", "bad_data_crc")}},
	{"damaged.json", []string{"--json", fx("damaged")}},
	{"basic_events.txt", []string{"--events", fx("torch-1.13", "basic")}},
	{"basic_events_loss.txt", []string{"--events", "--tags=^loss$", fx("torch-1.13", "basic")}},
	{"basic_file_events.json", []string{"--json", "--events", fx("torch-1.13", "basic", "events.out.tfevents.1795952040.vm.13683.0")}},
	{"hp.json", []string{"--json", fx("torch-1.13", "hp")}},
	{"v3_events_python.txt", []string{"--events", "--purge=python", fx("purge-variants", "v3_start_in_both_sessions")}},
	{"v6_events_rust_a.json", []string{"--json", "--events", "--purge=rust", "--tags=^a$", fx("purge-variants", "v6_two_tags_start")}},
	{"pytorch_writer.txt", []string{pw()}},
	{"pytorch_writer.json", []string{"--json", pw()}},
	{"pytorch_writer_events.txt", []string{"--events", "--tags=^(pr/t11|audio/tone|tetra_FACE)$", pw()}},
	{"two_inputs.txt", []string{fx("torch-1.13", "purge"), fx("purge-variants", "v3_start_in_both_sessions")}},
	{"reads.txt", []string{reads}},
	{"reads_python.txt", []string{"--purge=python", reads}},
	{"reads_rust.json", []string{"--json", "--purge=rust", reads}},
	{"reads_hparams_events_python.txt", []string{"--events", "--purge=python", reads + "/hparams_resumed"}},
}

func TestGolden(t *testing.T) {
	needFixtures(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := runInProcess(t, nil, tc.args...)
			var b strings.Builder
			b.WriteString(r.stdout)
			b.WriteString("---- stderr ----\n")
			b.WriteString(r.stderr)
			b.WriteString("---- exit " + strconv.Itoa(r.code) + " ----\n")
			checkGolden(t, tc.name, b.String())
		})
	}
}

// TestGoldenDeterministic runs every case twice and requires identical output
// (map iteration order must never leak into the output).
func TestGoldenDeterministic(t *testing.T) {
	needFixtures(t)
	for _, tc := range goldenCases {
		a := runInProcess(t, nil, tc.args...)
		b := runInProcess(t, nil, tc.args...)
		if a != b {
			t.Errorf("%s: two runs differ", tc.name)
		}
	}
}

// pw is the folder of PyTorch SummaryWriter fixtures (every kind but video),
// with forward slashes.
func pw() string {
	return filepath.ToSlash(filepath.Join("..", "..", "testdata", "pytorch-writer", "run"))
}
