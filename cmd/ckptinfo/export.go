package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/ptfile"
	"github.com/tbtrain/tbtrain/trainer"
)

// exportTo writes the checkpoint at path to out in the format its
// extension names (.pt or .safetensors), through a temporary file in out's
// directory renamed into place.
func exportTo(out, path string, stdout io.Writer) error {
	ext := strings.ToLower(filepath.Ext(out))
	if ext != ".pt" && ext != ".pth" && ext != ".safetensors" {
		return usageError{fmt.Errorf("--export %s: the name must end in .pt or .safetensors", out)}
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("--export %s: the file exists; not replacing it", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	c, err := ckpt.Load(path)
	if err != nil {
		return err
	}
	pc, err := trainer.ToPyTorch(c)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var buf bytes.Buffer
	if ext == ".safetensors" {
		meta := map[string]string{
			"format":      "pt", // the tensors are PyTorch's layout (what the Hugging Face tools expect)
			"source":      "tbtrain " + filepath.Base(path),
			"start_epoch": strconv.FormatInt(pc.StartEpoch, 10),
			"run_id":      c.GetRunId(),
		}
		err = ptfile.WriteSafetensors(&buf, pc.Model, meta)
	} else {
		name := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
		err = ptfile.WriteCheckpoint(&buf, name, pc)
	}
	if err != nil {
		return err
	}
	if err := writeAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): %s at start_epoch %d, %d tensors\n", out, buf.Len(), path, pc.StartEpoch, len(pc.Model))
	return nil
}

// writeAtomic writes data to a temp file beside path, syncs it and links
// it to path (failing if path appeared meanwhile).
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	// Link, unlike rename, never replaces an existing file.
	return os.Link(tmp, path)
}
