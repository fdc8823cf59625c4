package ptfile

import (
	"fmt"
	"io"
)

// Keys of the checkpoint dict of the PyTorch MNIST demo recipe:
//
//	torch.save({"start_epoch": epoch + 1,
//	            "model_state_dict": model.state_dict(),
//	            "optimizer_state_dict": optimizer.state_dict(),
//	            "scheduler_state_dict": scheduler.state_dict()}, f"LenetMnist{epoch}.pt")
//
// The well-known demo spells the optimizer key OptimizerKeyDemo.
const (
	StartEpochKey    = "start_epoch"
	ModelKey         = "model_state_dict"
	OptimizerKey     = "optimizer_state_dict"
	OptimizerKeyDemo = "Optimizer_state_dict"
	SchedulerKey     = "scheduler_state_dict"
)

// Checkpoint is the demo recipe's checkpoint dict.
type Checkpoint struct {
	// StartEpoch is the 0-based epoch training continues with (the demo
	// saves epoch + 1 after finishing epoch).
	StartEpoch int64
	// Model is model_state_dict, in its order.
	Model []NamedTensor
	// OptimizerKey is the key the optimizer state was found under
	// ([OptimizerKey] or [OptimizerKeyDemo]); "" when there is none.
	// Encode writes [OptimizerKey] when it is "".
	OptimizerKey string
	// Optimizer is the torch.optim.SGD state; nil when the file has none.
	Optimizer *SGD
	// Scheduler is the CosineAnnealingLR state; nil when the file has none.
	Scheduler *CosineAnnealingLR
}

// SGD is the state_dict of a torch.optim.SGD with one parameter group.
type SGD struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov, Maximize                   bool
	// InitialLR is the group's "initial_lr", which a scheduler adds; 0
	// when absent.
	InitialLR float64
	// Params are the parameter ids of the group: indices into the model's
	// parameters() order, which is its state_dict order for LeNet-5.
	Params []int64
	// MomentumBuffers holds the momentum_buffer of each of Params, in that
	// order; an entry is nil when the optimizer holds none for it (before
	// the first step, or with momentum 0).
	MomentumBuffers []*Tensor
}

// CosineAnnealingLR is the state_dict of
// torch.optim.lr_scheduler.CosineAnnealingLR.
type CosineAnnealingLR struct {
	TMax      int64
	EtaMin    float64
	BaseLRs   []float64
	LastEpoch int64
	StepCount int64
	// LastLR is "_last_lr": the rates of the last step, one per group; the
	// learning rate of the epoch training continues with.
	LastLR []float64
}

// ReadCheckpoint loads a torch.save file holding the demo's checkpoint dict.
// A file without an optimizer or scheduler entry loads with that field nil
// (the caller decides the defaults); a file without start_epoch or
// model_state_dict, or whose entries have another structure, is an
// [ErrLayout] error.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	v, err := Load(path)
	if err != nil {
		return nil, err
	}
	c, err := CheckpointOf(v)
	if err != nil {
		return nil, &Error{Op: "read", Path: path, Err: err}
	}
	return c, nil
}

// CheckpointOf maps a decoded object (see [Load]) to a Checkpoint.
func CheckpointOf(v any) (*Checkpoint, error) {
	d, ok := v.(*Dict)
	if !ok {
		return nil, layout("the file holds a %s, not the checkpoint dict", typeName(v))
	}
	c := &Checkpoint{}
	se, ok := d.Get(StartEpochKey)
	if !ok {
		return nil, layout("no %q entry", StartEpochKey)
	}
	if c.StartEpoch, ok = se.(int64); !ok || c.StartEpoch < 0 {
		return nil, layout("%q is %v, want an epoch number", StartEpochKey, se)
	}
	m, ok := d.Get(ModelKey)
	if !ok {
		return nil, layout("no %q entry", ModelKey)
	}
	var err error
	if c.Model, err = stateDict(m, ModelKey); err != nil {
		return nil, err
	}
	o1, has1 := d.Get(OptimizerKey)
	o2, has2 := d.Get(OptimizerKeyDemo)
	switch {
	case has1 && has2:
		return nil, layout("both %q and %q entries", OptimizerKey, OptimizerKeyDemo)
	case has1:
		c.OptimizerKey = OptimizerKey
	case has2:
		c.OptimizerKey, o1 = OptimizerKeyDemo, o2
	}
	if c.OptimizerKey != "" {
		if c.Optimizer, err = sgdOf(o1, c.OptimizerKey); err != nil {
			return nil, err
		}
	}
	if s, ok := d.Get(SchedulerKey); ok {
		if c.Scheduler, err = cosineOf(s); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func stateDict(v any, key string) ([]NamedTensor, error) {
	d, ok := v.(*Dict)
	if !ok {
		return nil, layout("%q is a %s, not a state_dict", key, typeName(v))
	}
	out := make([]NamedTensor, 0, d.Len())
	for i, k := range d.keys {
		name, ok1 := k.(string)
		t, ok2 := d.vals[i].(*Tensor)
		if !ok1 || !ok2 {
			return nil, layout("%q entry %v is a %s, want name -> tensor", key, k, typeName(d.vals[i]))
		}
		out = append(out, NamedTensor{Name: name, Tensor: t})
	}
	return out, nil
}

func sgdOf(v any, key string) (*SGD, error) {
	d, ok := v.(*Dict)
	if !ok {
		return nil, layout("%q is a %s, not an optimizer state_dict", key, typeName(v))
	}
	gs, _ := d.Get("param_groups")
	groups, ok := gs.([]any)
	if !ok || len(groups) != 1 {
		return nil, layout("%q: want exactly one param group, have %v", key, describe(gs))
	}
	g, ok := groups[0].(*Dict)
	if !ok {
		return nil, layout("%q: param group is a %s", key, typeName(groups[0]))
	}
	o := &SGD{}
	floats := []struct {
		name     string
		dst      *float64
		optional bool
	}{
		{"lr", &o.LR, false}, {"momentum", &o.Momentum, false}, {"dampening", &o.Dampening, true},
		{"weight_decay", &o.WeightDecay, true}, {"initial_lr", &o.InitialLR, true},
	}
	for _, f := range floats {
		x, ok := g.Get(f.name)
		if !ok {
			if f.optional {
				continue
			}
			return nil, layout("%q: param group has no %q (not torch.optim.SGD's state)", key, f.name)
		}
		if *f.dst, ok = number(x); !ok {
			return nil, layout("%q: %s is %v, want a number", key, f.name, x)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"nesterov", &o.Nesterov}, {"maximize", &o.Maximize}} {
		if x, ok := g.Get(b.name); ok {
			if *b.dst, ok = x.(bool); !ok {
				return nil, layout("%q: %s is %v, want a bool", key, b.name, x)
			}
		}
	}
	ps, _ := g.Get("params")
	params, ok := ps.([]any)
	if !ok {
		return nil, layout("%q: param group has no params list", key)
	}
	st, _ := d.Get("state")
	state, ok := st.(*Dict)
	if !ok {
		return nil, layout("%q: no state dict", key)
	}
	for _, p := range params {
		id, ok := p.(int64)
		if !ok {
			return nil, layout("%q: parameter id %v is not an int", key, p)
		}
		o.Params = append(o.Params, id)
		var buf *Tensor
		if s, ok := state.Get(id); ok {
			sd, ok := s.(*Dict)
			if !ok {
				return nil, layout("%q: state of parameter %d is a %s", key, id, typeName(s))
			}
			if b, ok := sd.Get("momentum_buffer"); ok && b != nil {
				if buf, ok = b.(*Tensor); !ok {
					return nil, layout("%q: momentum_buffer of parameter %d is a %s", key, id, typeName(b))
				}
			}
		}
		o.MomentumBuffers = append(o.MomentumBuffers, buf)
	}
	return o, nil
}

func cosineOf(v any) (*CosineAnnealingLR, error) {
	d, ok := v.(*Dict)
	if !ok {
		return nil, layout("%q is a %s, not a scheduler state_dict", SchedulerKey, typeName(v))
	}
	s := &CosineAnnealingLR{StepCount: -1}
	tm, ok1 := d.Get("T_max")
	em, ok2 := d.Get("eta_min")
	if !ok1 || !ok2 {
		return nil, layout("%q has no T_max and eta_min: not CosineAnnealingLR's state", SchedulerKey)
	}
	if s.TMax, ok = tm.(int64); !ok || s.TMax < 1 {
		return nil, layout("%q: T_max is %v, want a positive int", SchedulerKey, tm)
	}
	if s.EtaMin, ok = number(em); !ok {
		return nil, layout("%q: eta_min is %v", SchedulerKey, em)
	}
	le, _ := d.Get("last_epoch")
	if s.LastEpoch, ok = le.(int64); !ok {
		return nil, layout("%q: last_epoch is %v", SchedulerKey, le)
	}
	if sc, ok := d.Get("_step_count"); ok {
		s.StepCount, _ = sc.(int64)
	}
	for _, f := range []struct {
		name     string
		dst      *[]float64
		optional bool
	}{{"base_lrs", &s.BaseLRs, false}, {"_last_lr", &s.LastLR, true}} {
		x, ok := d.Get(f.name)
		if !ok && f.optional {
			continue
		}
		list, ok := x.([]any)
		if !ok || len(list) == 0 {
			return nil, layout("%q: %s is %v, want a list of rates", SchedulerKey, f.name, describe(x))
		}
		for _, e := range list {
			r, ok := number(e)
			if !ok {
				return nil, layout("%q: %s holds %v", SchedulerKey, f.name, e)
			}
			*f.dst = append(*f.dst, r)
		}
	}
	return s, nil
}

// number accepts a Python float or int.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case *Dict:
		return "dict"
	case []any:
		return "list"
	case string:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case *Tensor:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

func describe(v any) string {
	if l, ok := v.([]any); ok {
		return fmt.Sprintf("a list of %d", len(l))
	}
	return typeName(v)
}

// Value returns the checkpoint as the dict torch.save would hold, ready for
// [Encode]: start_epoch, model_state_dict (an OrderedDict), the optimizer
// state under c.OptimizerKey (or [OptimizerKey]) when c.Optimizer is set,
// and scheduler_state_dict when c.Scheduler is set. The entries follow
// what torch 1.13's state_dict methods write, so the recipe's
// load_state_dict calls accept them.
func (c *Checkpoint) Value() *Dict {
	d := &Dict{}
	d.Set(StartEpochKey, c.StartEpoch)
	model := &Dict{Ordered: true}
	for _, nt := range c.Model {
		model.Set(nt.Name, nt.Tensor)
	}
	d.Set(ModelKey, model)
	if o := c.Optimizer; o != nil {
		state := &Dict{}
		params := make([]any, len(o.Params))
		for i, id := range o.Params {
			params[i] = id
			if i < len(o.MomentumBuffers) && o.MomentumBuffers[i] != nil {
				s := &Dict{}
				s.Set("momentum_buffer", o.MomentumBuffers[i])
				state.Set(id, s)
			}
		}
		g := &Dict{}
		g.Set("lr", o.LR)
		g.Set("momentum", o.Momentum)
		g.Set("dampening", o.Dampening)
		g.Set("weight_decay", o.WeightDecay)
		g.Set("nesterov", o.Nesterov)
		g.Set("maximize", o.Maximize)
		g.Set("foreach", nil)
		if o.InitialLR != 0 {
			g.Set("initial_lr", o.InitialLR)
		}
		g.Set("params", params)
		od := &Dict{}
		od.Set("state", state)
		od.Set("param_groups", []any{g})
		key := c.OptimizerKey
		if key == "" {
			key = OptimizerKey
		}
		d.Set(key, od)
	}
	if s := c.Scheduler; s != nil {
		sd := &Dict{}
		sd.Set("T_max", s.TMax)
		sd.Set("eta_min", s.EtaMin)
		sd.Set("base_lrs", floatList(s.BaseLRs))
		sd.Set("last_epoch", s.LastEpoch)
		sd.Set("_step_count", s.StepCount)
		sd.Set("verbose", false)
		sd.Set("_get_lr_called_within_step", false)
		sd.Set("_last_lr", floatList(s.LastLR))
		d.Set(SchedulerKey, sd)
	}
	return d
}

func floatList(fs []float64) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}

// WriteCheckpoint writes c as a torch.save file (see [Encode]) to w; name
// is the archive name inside the zip (torch.save uses the file name
// without its extension).
func WriteCheckpoint(w io.Writer, name string, c *Checkpoint) error {
	return Encode(w, name, c.Value())
}
