// Command tbmerge makes one TensorBoard run out of a run that was split over
// several directories or files, or that shows steps twice.
//
// Usage:
//
//	tbmerge [--dry-run] [--order=time|given] [--allow-damaged] -o OUT INPUT...
//	tbmerge --version
//
// Each INPUT is an event file or a run directory (its event files, those
// whose name contains "tfevents", directly inside it). Every event file is
// one session of the same training. The sessions are ordered by the wall
// time of their first event (ties keep the order given); --order=given
// keeps the order of the command line instead, directories expanded in file
// name order. The first step of a session is the step of its SessionLog
// START if it writes one before its first summary (PyTorch's purge_step),
// else the step of its first summary.
//
// The merge rule is the one TensorBoard's Python loader applies to a run
// whose sessions each start with a SessionLog START: a later session's
// values win from its first step on. Going through the sessions in order,
// the summaries of the earlier sessions at steps >= the session's first step
// are dropped, in every tag, and the session's events are appended. What
// remains is written to OUT as one event file, in that order: the first
// file's file_version record, then every kept event's record payload copied
// byte for byte (wall times, steps, tags, plugin data and every summary kind
// unchanged; only the record framing and its CRCs are written anew). The
// file_version records of the later files are not copied. Both TensorBoard
// loaders then show each step once.
//
// OUT must not exist; tbmerge writes a temporary directory beside it, syncs
// it, and renames it to OUT, so OUT appears complete or not at all. Inputs
// are only read. A damaged input (a torn last record after a crash, a bad
// checksum) is reported on standard error with the file, the byte offset
// and how many bytes after it are not used, and its records before the
// damage are used; OUT is written all the same, and the exit status is 3 so
// that a script notices that the merged run may lack records. A user who
// expects the damage (the torn last record of a killed run) passes
// --allow-damaged, which makes that status 0. --dry-run prints the plan
// (which steps come from which file) and writes nothing.
//
// Exit status: 0 when OUT was written (or the plan printed) from undamaged
// inputs, or with --allow-damaged; 1 for a failure (OUT not written); 2
// for a bad command line; 3 when OUT was written (or the plan printed) but
// an input was damaged.
package main
