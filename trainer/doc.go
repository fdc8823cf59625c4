// Package trainer trains LeNet-5 (package model) on MNIST with SGD with
// momentum and a cosine learning-rate schedule, and can stop at any step and
// resume bit for bit, in the same run directory, on one TensorBoard curve.
//
// # Optimisation
//
// [SGD] is torch.optim.SGD's update (dampening 0, no Nesterov, no weight
// decay) in float32; [CosineLR] is the closed form of PyTorch's
// CosineAnnealingLR, stepped once per epoch with T_max = --epochs. Both are
// checked against numbers printed by real PyTorch
// (testdata/torch_reference.py and its output torch_reference.json).
// Epoch e visits the first ⌊N/B⌋·B images of a permutation that is a pure
// function of (seed, e) (a PCG seeded from both; Fisher–Yates), so resuming
// inside an epoch recomputes its order without replaying anything; the last
// partial batch is dropped. The initial weights come from a PCG seeded from
// the seed alone.
//
// # Runs, checkpoints and resume
//
// [New] creates <logdir>/<YYYY-MM-DD_HH-MM-SS>/ (never an existing
// directory) and [Trainer.Run] commits, through package ckpt, these files in it:
//
//	LenetMnist0-step0.ckpt    the initial state (so any run can be resumed)
//	LenetMnist<e>.ckpt        after 0-based epoch e; resumes at epoch e+1
//	LenetMnist<e>-step<g>.ckpt inside epoch e after global step g
//	                          (every --save-every-steps steps, and on cancel)
//
// A checkpoint holds everything the next step depends on: epoch, global
// step, batches done in the epoch, weights, momentum buffers, the schedule,
// the sum of the epoch's batch losses so far, the config and the metrics of
// every finished epoch. rng_state holds the state of the epoch's shuffling
// PCG after it drew the order; since the order is a pure function, Resume
// recomputes it and refuses a checkpoint whose state differs. Before each
// commit the event file is Synced, so a checkpoint never claims steps whose
// events are not on disk; after it, old checkpoints are pruned to --keep.
//
// [Locate] resolves --resume: a file (any damage is an error naming it), a
// run directory or "latest" (the newest checkpoint that verifies; damaged
// ones are skipped and reported). [ResumeConfig] decides which settings may
// change on resume: --epochs (not below the epochs done or begun; the remaining
// epochs then follow a cosine with T_max = the new value), --keep,
// --save-every-steps, --limit-test, --data and --embed. --batch-size, --lr,
// --momentum, --eta-min, --seed and --limit-train may not: each shapes the
// next step, and a different value is a [*ConflictError]. Resuming from a
// checkpoint older than the newest valid one of its run starts a new
// timeline: Run renames the newer checkpoints of the run to <name>.abandoned
// (or <name>.abandoned-2, -3, ... if that name is taken) so that a later
// resume does not jump back to the old one. The renames are one crash-safe
// decision (ckpt.SetAside: recorded durably first, then done newest first):
// after a kill half-way, --resume DIR and latest still pick the checkpoint
// the session resumed from, and the next session finishes the renames.
//
// Lowering --epochs to exactly the epochs done ends the run then and there:
// Run commits the checkpoint again at the same position with the new
// --epochs (after setting aside the run's newer checkpoints, which belong to
// the longer timeline, and removing that timeline's projector entries),
// writes the projector entry of the epoch that now ends the run (from a
// test pass of the checkpoint's weights) and ends the hparams session of the
// shorter run, so a later plain --resume finds the run done instead of
// training on. A session with nothing left to train still removes the temp
// files a killed session left.
//
// # Runs in object stores
//
// logdir and the checkpoint paths may be s3:// URLs (see storage.Register
// and docs/s3.md): checkpoints and events go through the run's
// storage.Store. There is no directory to create or lock, so a new run
// claims its name with a lease object (LeaseName) created with
// If-None-Match: *, which is also what keeps one trainer per run: the
// session renews it every third of Options.LeaseTTL (default 60 s) and
// deletes it when Run returns; a resume while another trainer's lease is
// live fails with a *LeaseHeldError, and a lapsed lease (its holder killed)
// is taken over. Renewals and takeovers are compare-and-swaps
// (storage.Swapper: If-Match on the lease object's ETag), so of trainers that
// find the same lapsed lease at once exactly one takes it, and a holder that
// was paused past the TTL cannot overwrite the lease of the trainer that
// took over: it finds the other token and stops. Before each checkpoint
// commit the holder renews the lease synchronously, so a commit starts
// with the lease held and a full TTL ahead. A store without compare-and-swap
// refuses to take a lapsed lease over (ErrNoSafeTakeover).
//
// # Divergence
//
// A NaN or infinite loss means the run has diverged: every later step would
// be NaN too. Run stops at the first non-finite training loss, before that
// step's update, and returns a [*DivergedError] (errors.Is [ErrDiverged])
// naming the global step, the epoch and the batch; a non-finite test loss
// stops it the same way before the epoch's tags and checkpoint. Nothing is
// committed after the last finite step, so the newest checkpoint holds finite
// values; and commit itself refuses a snapshot with a non-finite loss sum,
// weight or momentum value (the checks PyTorch Lightning's fit loop makes on
// the loss, applied where a checkpoint would keep it). Since training is
// deterministic, resuming repeats the divergence: the way on is a new run with
// a lower --lr. Checkpoints of a diverged run written by an older tbtrain
// (loss sum, epoch metrics or weights non-finite) are skipped, with a
// warning, by --resume DIR and latest, which fall back to the newest finite
// one; named as a file, Resume refuses one with an error that says why.
//
// # Run identity
//
// [New] gives the run an ID, 128 random bits as 32 hex digits, and every
// checkpoint of the run stores it (Checkpoint.run_id; ckptinfo shows it);
// every resume keeps it, whichever checkpoint it starts from. Retention
// (--keep) and the set-aside of an abandoned timeline look only at
// checkpoints with the run's own ID, so a file of another run is never
// deleted or renamed, whatever its step or commit time.
//
// Resuming a checkpoint whose directory also holds valid checkpoints of
// another run (with another ID; say, files copied together into one folder)
// is refused: [Resume] returns an [*OtherRunsError] naming the directory and
// each other run with its newest checkpoint, and nothing is written. The
// alternative, continuing while leaving their files alone, cannot keep the
// run apart: the session writes its event files into the checkpoint's
// directory, and TensorBoard would draw the two runs as one (and purge one's
// steps on the other's session start); --resume DIR and latest would pick
// between the runs by step or time alone. Refusing costs a copy: put the
// checkpoint into a directory of its own, or resume from its run's own
// directory.
//
// Checkpoints written before run IDs existed have an empty ID. All ID-less
// checkpoints of a directory count as one run, which is what every
// checkpoint of a directory was then: resuming one continues that run
// without an ID (its new checkpoints have none either), and its retention
// and set-aside see only ID-less files. A directory that holds both ID-less
// checkpoints and checkpoints with an ID holds two runs, and resuming either
// is refused as above.
//
// # Events: one step axis
//
// Every tag uses the global step g (optimizer steps done). A new run commits
// its step-0 checkpoint before it creates any event file, so a run directory
// that holds events always holds a checkpoint to resume from. A session opens
// a new event file in the run directory with its SessionLog START at step 0
// (new run, or resumed from the step-0 checkpoint: then it writes the step-0
// tags again) or g+1 (resumed from a checkpoint at g > 0) and logs everything
// after g again, so both TensorBoard loaders (the Python purge on START and
// the Rust per-tag purge) show each step once. Tags:
//
//	train/loss_step      loss of the batch that made step g        every step
//	train/loss           mean batch loss of the epoch               at the step ending the epoch
//	learning_rate        learning rate used in the epoch            "
//	test/acc, test/loss  accuracy (a fraction) and mean loss        "
//	epoch                0-based index of the epoch that ended      "
//	weights/<param>      histogram of each parameter                "
//	test/misclassified   grid of up to 64 misclassified test digits "
//	test/misclassified_labels  their true→predicted labels (text)  "
//	test/confusion       confusion matrix of the test pass (image:  "
//	                     rows true digit, columns predicted, counts,
//	                     log colour scale, recall per row)
//	test/confusion_table the same counts as a markdown table (text) "
//	pr/<d>               PR curve of digit d against the rest,      "
//	                     scored by the softmax probability of d
//	                     (127 thresholds, as PyTorch's add_pr_curve)
//	config               the config as a markdown table             step 0, by the session(s) starting at step 0
//	custom_scalars__config__  the Custom Scalars layout: "loss"     step 0, as config
//	                     (train/loss and test/loss), "accuracy"
//	                     (test/acc), "learning rate"
//	(graph)              LeNet-5 as a graph (Event.graph_def): the   step 0, as config
//	                     modules with their parameter and
//	                     activation shapes, for the Graphs tab
//
// The confusion matrix, the PR curves and the projector entry come from the
// test pass that gives test/acc (model.EvalTo returns the probabilities and
// the penultimate activations with the loss); there is no second pass.
//
// # Projector
//
// At the end of the run's last epoch (and of the new last epoch when a run
// is extended), the trainer writes a projector entry "penultimate" at that
// step (tbwriter.AddEmbedding): the 84 penultimate activations (the input of
// lineNet.5) of the first --embed test images (default 1000, 0 = none), with
// metadata columns label, predicted and result (correct or wrong), and a
// sprite of the digits. Its files are <step, 5 digits or more>/penultimate/
// {tensors.tsv,metadata.tsv,sprite.png} and projector_config.pbtxt in the
// run directory, written before that epoch's checkpoint, each replaced
// atomically. A resumed session first removes the temp files a killed write
// left (tbwriter.CleanTemp) and the entries at steps it logs again
// (tbwriter.RemoveEmbeddings from its START step on), as TensorBoard drops
// those steps' events: a session that redoes the last epoch writes the same
// entry again, and the entries of a timeline the user went back from do not
// stay in the Projector tab. A session resuming a finished run with
// another --embed N > 0 writes the entry of its last epoch again with the
// first N test images (a test pass of the restored weights).
//
// The hparams tags are not in the run directory but in a session directory
// of their own, below.
//
// # HParams sessions
//
// TensorBoard keeps the first value it ever reads for each _hparams_/* tag of
// a run (both loaders keep a tag's first summary metadata for good, and the
// hparams plugin reads only that metadata), even after a session START
// purges the value. So a session end, once written into a run, is shown for
// good: written before the last commit, a kill there left the killed
// session's end time; written by a run later extended with a larger
// --epochs, it left the first end, the first --epochs and status SUCCESS
// while the extension trained. Hence each extent of a run (its training to
// one --epochs value, on one timeline) is its own hparams session, in a
// subdirectory of the run directory, which TensorBoard lists as the run
// <run>/hparams-epochs<N> (-2, -3, ... for a later extent to the same N):
//
//	_hparams_/experiment, _hparams_/session_start_info
//	                     hyperparameters (epochs = N, batch_size, lr,
//	                     momentum, eta_min, seed, limit_train) and the metric
//	                     columns: written at step 0 when the extent starts
//	test/acc, test/loss, train/loss, _hparams_/session_end_info
//	                     the last epoch's metrics and SUCCESS, ended at the
//	                     commit time of the checkpoint that ends the extent:
//	                     written once, after that commit, at the step of the
//	                     last epoch's tags
//
// Every checkpoint names its extent's directory (hparams_run). A session
// keeps the checkpoint's directory unless it holds a session end or another
// --epochs; then it uses the first hparams-epochs<N>[-k] that does not exist
// yet or holds only this extent's start (left by a session killed before its
// first commit). A kill between the last commit and the session end leaves
// a finished run without one: the next session, finding the run done (any
// --resume of it), writes it with the commit's time. So every row of the
// HParams tab shows the hyperparameters, end time and final metrics of one
// extent; after `--resume latest --epochs N` the new row holds the newest
// final metrics and the old row keeps its own. An extent given up before its
// end (--epochs changed on resume while it trained) keeps no end: TensorBoard
// shows it with status Unknown and no metrics. Runs written before these
// sessions have theirs in the run directory and keep it as it is.
//
// # Determinism
//
// For given model numerics (shard count, chunk sizes and kern's canonical
// arithmetic: model's Numerics, stored as each checkpoint's kernel),
// training N steps straight and training k steps, stopping any way and
// resuming give bitwise identical weights and logged values, on any
// processor and kern code path (the run may stop on one machine and resume
// on another). A checkpoint whose kernel differs (one written before the
// canonical arithmetic, naming "kern=avx2" or "kern=generic") is resumed
// all the same, but the run then no longer matches an uninterrupted one bit
// for bit; cmd/train warns. The wall-clock fields (epoch
// seconds, commit times, event wall times, hparams times) are the only
// differences.
//
// # Concurrency
//
// A [Trainer] is used by one goroutine: New or Resume, then Run once. The
// hooks in [Options] run on that goroutine, between steps. Run honours
// cancellation of its context between steps: it finishes the step in
// progress, commits a mid-epoch checkpoint and returns an
// [*InterruptedError] (errors.Is [ErrInterrupted]) naming it.
//
// One trainer per run directory: Run takes an OS lock on the file
// .tbtrain-lock ([LockName]) in the run directory before it writes anything
// (flock on Unix, LockFileEx on Windows; none on AIX, Plan 9 and
// WebAssembly) and holds it until it returns. A second Run on the same
// directory, from another process or this one, returns a [*LockedError]
// (errors.Is [ErrLocked]) naming the directory and the PID the holder
// recorded in the file, having changed nothing. A Trainer from Resume also
// notices a trainer that held the run while Resume read it and has since
// committed and exited: Run returns an error wrapping [ErrRunChanged]
// instead of setting that newer checkpoint aside. The kernel drops the lock
// when the holder dies, so a kill -9 leaves no stale lock (the file stays
// and is simply locked again). Readers take no lock: Locate, package ckpt's
// listing, ckptinfo and tbdump read while a session runs. A run on an object
// store has a lease object instead (lease.go).
package trainer
