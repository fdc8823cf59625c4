// Package tbview reads the views of the TensorBoard fixtures: the
// tensorboard-view.json files that record what TensorBoard 2.22's Python
// loader served for the event files beside them, which the tests of
// tbwriter and cmd/tbdump compare their own reading with.
//
//   - [ReadGroup] reads a group of testdata/tensorboard (see its README.md):
//     for every run its event files, the records TensorBoard's reader scanned
//     in each and where it stopped, the run's error, and every tag's plugin,
//     count, steps and scalars.
//   - [ReadReads] reads testdata/tensorboard-reads (see its README.md,
//     view.py): the runs listed, what each plugin's route served for every
//     tag, and the hparams plugin's content.
//
// The views write non-finite scalars as the strings "NaN", "Infinity" and
// "-Infinity"; they are kept as raw JSON here, for jsonfloat.Float to read.
//
// # Concurrency
//
// The readers only read their file; they are safe for concurrent use.
package tbview
