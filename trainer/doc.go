// Package trainer trains LeNet-5 on MNIST with SGD and cosine annealing, and
// can stop at any step and resume bit for bit.
//
// The optimizer (SGD) and the schedule (CosineLR) follow PyTorch's
// torch.optim.SGD and CosineAnnealingLR; testdata/torch_reference.py prints the
// reference numbers the tests compare against.
//
// Each epoch's order of the training images is a pure function of the seed and
// the epoch number, so a run resumed in the middle of an epoch recomputes the
// same order without replaying the earlier ones.
package trainer
