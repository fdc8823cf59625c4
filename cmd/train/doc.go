// Command train trains LeNet-5 on MNIST, writing TensorBoard event files and
// checkpoints into one run directory, and resumes bit for bit after any stop.
//
// Usage:
//
//	train [flags]
//
// Run train --help for the flags, examples and the resume rules; train
// --version prints the module version and git revision the binary was built
// from, which every checkpoint and the run's config text also record.
package main
