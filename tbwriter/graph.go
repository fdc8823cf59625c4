package tbwriter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Graph facts. TensorBoard's Graphs tab draws the GraphDef of a run's
// Event.graph_def (tensorboard/plugins/graph/graphs_plugin.py; its loaders
// store it under the tag "__run_graph__"). It labels edges with the
// "_output_shapes" attribute (a list of shapes), the attribute PyTorch's
// add_graph writes (torch/utils/tensorboard/_proto_graph.py), and PyTorch
// sets VersionDef.producer = 22 (_pytorch_graph.py).
const (
	// OutputShapesAttr is the node attribute holding the shapes of a node's
	// outputs, which the Graphs tab shows on edges.
	OutputShapesAttr = "_output_shapes"

	// graphProducer is the producer version PyTorch writes.
	graphProducer = 22

	// MaxGraphNodes bounds a Graph: the Graphs tab lays out the whole graph
	// in the browser, and a million nodes is far beyond what it can draw.
	MaxGraphNodes = 1 << 20
)

// Graph builds a GraphDef for TensorBoard's Graphs tab: nodes with an op,
// inputs, output shapes and attributes. Names use '/' for scopes, which
// the tab draws as collapsible groups ("LeNet5/conv1/Conv2D"). Build it
// with Node; errors (a duplicate name, a bad attribute) are kept and
// returned by GraphDef and AddGraph. A Graph is not safe for concurrent
// use while it is built.
type Graph struct {
	nodes []*tbpb.NodeDef
	index map[string]int
	errs  []error
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{index: make(map[string]int)}
}

// Node is a node being built; its methods return it for chaining.
type Node struct {
	g   *Graph
	def *tbpb.NodeDef
}

// Node adds a node named name running op, consuming the outputs of inputs:
// "node" (its output 0), "node:i" (output i) or "^node" (a control
// dependency). Inputs may name nodes added later; GraphDef checks that
// they all exist.
func (g *Graph) Node(name, op string, inputs ...string) *Node {
	def := &tbpb.NodeDef{Name: name, Op: op, Input: append([]string(nil), inputs...)}
	n := &Node{g: g, def: def}
	switch {
	case name == "":
		g.errs = append(g.errs, fmt.Errorf("node %d has an empty name", len(g.nodes)))
	case !utf8.ValidString(name) || !utf8.ValidString(op):
		g.errs = append(g.errs, fmt.Errorf("node %q: name or op %q is not valid UTF-8", name, op))
	case strings.ContainsAny(name, ":^"):
		g.errs = append(g.errs, fmt.Errorf("node %q: a name may not contain ':' or '^' (they mark inputs)", name))
	case g.index[name] > 0:
		g.errs = append(g.errs, fmt.Errorf("node %q added twice", name))
	case op == "":
		g.errs = append(g.errs, fmt.Errorf("node %q has no op", name))
	}
	for _, in := range inputs {
		if !utf8.ValidString(in) {
			g.errs = append(g.errs, fmt.Errorf("node %q: input %q is not valid UTF-8", name, in))
		}
	}
	g.nodes = append(g.nodes, def)
	if _, dup := g.index[name]; !dup {
		g.index[name] = len(g.nodes) // 1-based: 0 means absent
	}
	return n
}

// Device sets the device the node runs on ("/device:CPU:0").
func (n *Node) Device(d string) *Node {
	n.def.Device = d
	return n
}

// OutputShape appends the shape of the node's next output to its
// "_output_shapes" attribute; -1 is an unknown dimension.
func (n *Node) OutputShape(dims ...int64) *Node {
	for _, d := range dims {
		if d < -1 {
			n.g.errs = append(n.g.errs, fmt.Errorf("node %q: dimension %d (want >= -1)", n.def.Name, d))
		}
	}
	shape := &tbpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tbpb.TensorShapeProto_Dim{Size: d})
	}
	a := n.attrs()[OutputShapesAttr]
	if a == nil {
		a = &tbpb.AttrValue{Value: &tbpb.AttrValue_List{List: &tbpb.AttrValue_ListValue{}}}
		n.def.Attr[OutputShapesAttr] = a
	}
	l := a.GetList()
	if l == nil {
		n.g.errs = append(n.g.errs, fmt.Errorf("node %q: %s set by Attr to a non-list", n.def.Name, OutputShapesAttr))
		return n
	}
	l.Shape = append(l.Shape, shape)
	return n
}

// Attr sets attribute key. value is a string, []byte, bool, an integer
// (int, int32, int64), a float (float32, float64: stored as float32), a
// list of those ([]string, []int64, []float32, []bool), a
// *tbpb.TensorShapeProto, a tbpb.DataType or a ready *tbpb.AttrValue. The
// Graphs tab shows attributes in the node's info card.
func (n *Node) Attr(key string, value any) *Node {
	a, err := attrValue(value)
	if err == nil && !utf8.ValidString(key) {
		err = errors.New("key is not valid UTF-8")
	}
	if err != nil {
		n.g.errs = append(n.g.errs, fmt.Errorf("node %q: attr %q: %w", n.def.Name, key, err))
		return n
	}
	n.attrs()[key] = a
	return n
}

func (n *Node) attrs() map[string]*tbpb.AttrValue {
	if n.def.Attr == nil {
		n.def.Attr = make(map[string]*tbpb.AttrValue)
	}
	return n.def.Attr
}

func attrValue(v any) (*tbpb.AttrValue, error) {
	list := func(l *tbpb.AttrValue_ListValue) *tbpb.AttrValue {
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_List{List: l}}
	}
	switch x := v.(type) {
	case *tbpb.AttrValue:
		return proto.CloneOf(x), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("string %q is not valid UTF-8", x)
		}
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_S{S: []byte(x)}}, nil
	case []byte:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_S{S: append([]byte(nil), x...)}}, nil
	case bool:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_B{B: x}}, nil
	case int:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_I{I: int64(x)}}, nil
	case int32:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_I{I: int64(x)}}, nil
	case int64:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_I{I: x}}, nil
	case float32:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_F{F: x}}, nil
	case float64:
		if math.Abs(x) > math.MaxFloat32 && !math.IsInf(x, 0) {
			return nil, fmt.Errorf("float %v overflows float32", x)
		}
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_F{F: float32(x)}}, nil
	case tbpb.DataType:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_Type{Type: x}}, nil
	case *tbpb.TensorShapeProto:
		return &tbpb.AttrValue{Value: &tbpb.AttrValue_Shape{Shape: proto.CloneOf(x)}}, nil
	case []string:
		l := &tbpb.AttrValue_ListValue{}
		for _, s := range x {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("string %q is not valid UTF-8", s)
			}
			l.S = append(l.S, []byte(s))
		}
		return list(l), nil
	case []int64:
		return list(&tbpb.AttrValue_ListValue{I: append([]int64(nil), x...)}), nil
	case []float32:
		return list(&tbpb.AttrValue_ListValue{F: append([]float32(nil), x...)}), nil
	case []bool:
		return list(&tbpb.AttrValue_ListValue{B: append([]bool(nil), x...)}), nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

// GraphDef returns the graph as a GraphDef (VersionDef.producer 22, as
// PyTorch writes), or the first build errors joined: a duplicate or empty
// name, a name with ':' or '^', an empty op, a bad attribute, an input
// naming a node that does not exist, no nodes, or more than MaxGraphNodes.
func (g *Graph) GraphDef() (*tbpb.GraphDef, error) {
	errs := append([]error(nil), g.errs...)
	if len(g.nodes) == 0 {
		errs = append(errs, errors.New("no nodes"))
	}
	if len(g.nodes) > MaxGraphNodes {
		errs = append(errs, fmt.Errorf("%d nodes (limit %d)", len(g.nodes), MaxGraphNodes))
	}
	for _, n := range g.nodes {
		for _, in := range n.Input {
			base := strings.TrimPrefix(in, "^")
			if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.HasPrefix(in, "^") {
				if _, err := strconv.ParseUint(base[i+1:], 10, 31); err == nil {
					base = base[:i]
				}
			}
			if g.index[base] == 0 {
				errs = append(errs, fmt.Errorf("node %q: input %q names no node", n.Name, in))
			}
		}
	}
	if len(errs) > 0 {
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Errorf("... and %d more", len(errs)-10))
		}
		return nil, fmt.Errorf("tbwriter: graph: %w", errors.Join(errs...))
	}
	gd := &tbpb.GraphDef{Versions: &tbpb.VersionDef{Producer: graphProducer}}
	for _, n := range g.nodes {
		gd.Node = append(gd.Node, proto.CloneOf(n))
	}
	return gd, nil
}

// GraphEvent returns the event AddGraph writes: step 0, graph_def set to
// the serialized gd. The bytes are deterministic (map entries such as node
// attributes in key order), so the same graph logged by a resumed session
// is the same record, byte for byte.
func GraphEvent(gd *tbpb.GraphDef) (*tbpb.Event, error) {
	b, err := deterministic.Marshal(gd)
	if err != nil {
		return nil, fmt.Errorf("tbwriter: graph: %w", err)
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("tbwriter: graph: %w: %d bytes (limit %d)", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	return &tbpb.Event{What: &tbpb.Event_GraphDef{GraphDef: b}}, nil
}

// AddGraph writes g for TensorBoard's Graphs tab as an Event.graph_def at
// step 0, as PyTorch's add_graph does (PyTorch also writes an empty
// RunMetadata tagged "step1", which the tab needs only for compute-time
// profiles; AddGraph does not). A run shows one graph: both TensorBoard
// loaders keep the last one written. Nothing is written when g has errors
// (see GraphDef).
func (w *Writer) AddGraph(g *Graph) error {
	gd, err := g.GraphDef()
	if err != nil {
		return err
	}
	ev, err := GraphEvent(gd)
	if err != nil {
		return err
	}
	return w.AddEvent(ev)
}

// GraphOf decodes the GraphDef of an event; ok is false when ev holds none
// or it does not decode.
func GraphOf(ev *tbpb.Event) (gd *tbpb.GraphDef, ok bool) {
	b, isGraph := ev.GetWhat().(*tbpb.Event_GraphDef)
	if !isGraph {
		return nil, false
	}
	gd = new(tbpb.GraphDef)
	if err := proto.Unmarshal(b.GraphDef, gd); err != nil {
		return nil, false
	}
	return gd, true
}
