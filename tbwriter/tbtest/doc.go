// Package tbtest holds helpers for tests that compare what two runs logged
// to TensorBoard: the values must be equal bit for bit, except for the
// wall-clock times that some plugins carry inside their data.
package tbtest
