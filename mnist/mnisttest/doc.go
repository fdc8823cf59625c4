// Package mnisttest provides small synthetic MNIST-shaped data sets for the
// tests of packages that train on MNIST (trainer, cmd/train): a few hundred
// learnable "digits" instead of the 47 MB of the real files.
//
// Everything is a pure function of its arguments; the functions are safe for
// concurrent use.
package mnisttest
