// Command train trains LeNet-5 on MNIST, writing TensorBoard event files and
// checkpoints into one run directory, and resumes bit for bit after any stop.
//
// Usage:
//
//	train [flags]
//
// Run train --help for the flags, examples and the resume rules.
package main
