// Package ptfixture reads testdata/pytorch-run, a real PyTorch 1.13 run of
// the demo recipe (see its README.md and gen.py), for the tests of ptfile
// and trainer: [Read] decodes its expect.json, what PyTorch itself read from
// each .pt file, and [SHA] is the digest that file gives for every tensor.
//
// # Concurrency
//
// Read and SHA only read their arguments; they are safe for concurrent use.
package ptfixture
