package mnisttest

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tbtrain/tbtrain/mnist"
)

// TestSynth checks that Synth is reproducible, uses every class and draws
// each class's bar where it says.
func TestSynth(t *testing.T) {
	a, b := Synth(300, 7), Synth(300, 7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("Synth(300, 7) twice differs:\n%s", diff)
	}
	if c := Synth(300, 8); cmp.Equal(a.Labels, c.Labels) {
		t.Error("seeds 7 and 8 give the same labels")
	}
	var seen [mnist.Classes]int
	for i, k := range a.Labels {
		seen[k]++
		img := a.Images[i*mnist.Pixels : (i+1)*mnist.Pixels]
		// The bar starts at row/column 3+5*(k%5) or one later; its middle
		// line is bright all along.
		mid := 3 + 5*int(k%5) + 1
		for x := range mnist.Rows {
			p := img[mid*mnist.Cols+x]
			if k >= 5 {
				p = img[x*mnist.Cols+mid]
			}
			if p < 200 {
				t.Fatalf("image %d (class %d): pixel %d of the bar's middle line is %d, want >= 200", i, k, x, p)
			}
		}
	}
	for k, n := range seen {
		if n == 0 {
			t.Errorf("class %d never drawn in 300 images", k)
		}
	}
}

// TestWriteIDXRoundTrip checks that mnist.Load reads back what WriteIDX wrote.
func TestWriteIDXRoundTrip(t *testing.T) {
	dir := t.TempDir()
	train, test := Synth(64, 1), Synth(16, 2)
	if err := WriteIDX(dir, mnist.TrainImages, mnist.TrainLabels, train); err != nil {
		t.Fatal(err)
	}
	if err := WriteIDX(dir, mnist.TestImages, mnist.TestLabels, test); err != nil {
		t.Fatal(err)
	}
	gotTrain, gotTest, err := mnist.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(train, gotTrain); diff != "" {
		t.Errorf("training set (-wrote +read):\n%s", diff)
	}
	if diff := cmp.Diff(test, gotTest); diff != "" {
		t.Errorf("test set (-wrote +read):\n%s", diff)
	}
	if err := WriteIDX(filepath.Join(dir, "missing"), mnist.TrainImages, mnist.TrainLabels, train); err == nil {
		t.Error("WriteIDX into a missing directory: no error")
	}
}
