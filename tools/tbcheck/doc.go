// Command tbcheck writes a TensorBoard run with every kind tbwriter can
// log, and a JSON file of what it wrote, for tools/tbcheck/check.py to
// compare with what TensorBoard serves. It is the Go half of an end-to-end
// check against a real TensorBoard; see run.sh.
//
// Usage:
//
//	go run ./tools/tbcheck -logdir DIR
//
// It writes DIR/kinds (the run, its AddScalars sub-runs and its projector
// files) and DIR/expected.json.
package main
