// Package ptfile reads and writes PyTorch's torch.save files without
// running any code from them, and writes safetensors files.
//
// It reads the checkpoints of PyTorch training scripts (a dict of
// state_dicts, as the classic MNIST demo saves after every epoch) so that
// tbtrain can continue such a run, and writes tbtrain checkpoints back in
// the same form so that the PyTorch script's own torch.load and
// load_state_dict calls resume them. It is a public package because nothing
// in it is specific to tbtrain's model: any Go program that needs the
// floating-point tensors of a torch.save file (as float32: float64 rounded
// to nearest as PyTorch's load_state_dict into a float32 model does,
// float16 and bfloat16 exactly), or has to hand tensors to PyTorch
// or to the Hugging Face tools, can use it. The mapping to tbtrain's
// trainer lives in package trainer.
//
// # The torch.save format (torch >= 1.6)
//
// A zip archive (stored, usually without compression; PyTorch aligns each
// record's data to 64 bytes) whose records share one directory, named after
// the file (torch/serialization.py, _save; the zip layout is written by
// caffe2/serialize/inline_container.cc):
//
//	<name>/data.pkl      a pickle (protocol 2) of the saved object
//	<name>/data/<key>    the bytes of one storage, little-endian
//	<name>/version       "3\n"
//	<name>/byteorder     "little" or "big" (torch >= 2.1; absent means little)
//
// In the pickle a tensor is a call of torch._utils._rebuild_tensor_v2 with
// (storage, storage_offset, size, stride, requires_grad, backward_hooks);
// the storage is a persistent id, the tuple ('storage', torch.<Type>Storage,
// key, location, numel), which names the record data/<key>. A state_dict is
// a collections.OrderedDict of name -> tensor.
//
// # The legacy format (torch < 1.6)
//
// Before torch 1.6 (and still with _use_new_zipfile_serialization=False)
// torch.save wrote one stream (torch/serialization.py, _legacy_save): five
// protocol-2 pickles — the magic number 0x1950a86a20f9469cfc6c, the
// protocol version 1001, a sys_info dict (byte order, C type sizes), the
// saved object, the sorted list of storage keys — then each storage in
// that order as an int64 element count and the raw elements. A storage's
// persistent id has a sixth element, view_metadata (None; a storage view
// is ErrUnsupported). Each pickle is scanned like data.pkl before it is
// unpickled. The storages follow the object, so its pickle is unpickled
// twice: once to learn the storages' types and sizes (checked against what
// the file holds before anything is allocated), then with their bytes.
// The tar-based format of torch before 0.4 is not read.
//
// # Loading runs no code
//
// Unpickling is a small stack machine whose GLOBAL opcode imports any
// module attribute and whose REDUCE opcode calls it: torch.load on a hostile
// file runs whatever the file names (os.system, builtins.eval, ...). This
// package never executes anything from the file. [Decode] first walks every
// opcode of data.pkl without building anything (scanPickle): any opcode
// outside the protocol-2 set torch.save writes (the set PyTorch's own
// weights_only unpickler accepts) is [ErrUnsupported], every argument must
// lie inside the pickle, and every GLOBAL must be on a short allow-list —
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
// _rebuild_tensor / _rebuild_parameter and the torch.<Type>Storage names.
// Any other global is a [*ForbiddenError] naming it (with its Python 3
// name when the pickle spells it the Python 2 way, as protocol 2 does) and
// its offset; [Load] adds the file name. Only then does the pickle go to
// github.com/nlpodyssey/gopickle, which interprets the opcodes into Go
// values. gopickle itself never runs Python: GLOBAL resolves to a Go value
// and REDUCE calls that value's Go method. It resolves six names on its own
// before asking its FindClass hook (collections.OrderedDict,
// builtins.list, builtins.dict, __builtin__.object,
// array._array_reconstructor and copy_reg._reconstructor); the scan stops
// the last five, so the hook installed here — which again accepts only the
// allow-list and returns only the tensor and storage builders of this
// package — is the only way to a global. gopickle panics on some malformed
// streams; Decode recovers and reports [ErrCorrupt].
//
// Sizes are checked before memory is allocated: the file (at most
// [MaxSize]), data.pkl (64 MiB), every storage record against its
// persistent id, every tensor's size and stride against its storage. The
// decoded tree is bounded in depth and shared containers are converted once.
//
// Encode (used by [WriteCheckpoint]) writes the same format with its own
// pickle writer, since gopickle only reads: protocol 2, the opcodes listed
// in scan.go, one FloatStorage record per tensor, records aligned to 64
// bytes like PyTorch's writer. torch 1.13's torch.load reads it, and the
// demo recipe's load_state_dict calls accept what [Checkpoint.Value] puts
// in it.
//
// # safetensors
//
// [WriteSafetensors] and [ReadSafetensors] implement the format of
// huggingface/safetensors (its README): an 8-byte little-endian header
// length, a JSON header mapping each tensor name to its dtype, shape and
// data_offsets (plus an optional __metadata__ object of strings), padded
// with spaces to a multiple of 8 bytes, then the tensors' bytes without
// holes. Written by hand: it is one page of format, and the Go modules that
// implement it were not needed for 60 lines.
//
// # Concurrency
//
// The functions share no state and may be called from several goroutines.
// A [Dict] or [Tensor] is not safe for concurrent modification.
package ptfile
