// Command plotcurves draws a run's learning curves from its TensorBoard event
// files into a PNG, for the documentation: test accuracy in one panel, the
// epoch's mean training loss and the test loss in the other, against the
// global step, as TensorBoard's Python loader keeps them (purges applied).
//
// Usage:
//
//	go run ./tools/plotcurves -o docs/img/curves.png runs/2026-12-02_20-30-00
//
// It reads the run directory's own event files (not its subdirectories) with
// package tbwriter and draws with image/draw and x/image's basic font: no
// plotting library, since this one picture needs only lines, ticks and labels.
package main
