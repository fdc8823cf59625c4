package tbwriter

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Mesh plugin facts, from tensorboard/plugins/mesh: PLUGIN_NAME = "mesh"
// and _PROTO_VERSION = 0 (metadata.py); a mesh named N is up to three tags
// N_VERTEX, N_FACE and N_COLOR (get_instance_name), each a tensor of shape
// [batch, points, 3] whose MeshPluginData carries the name, the content
// type, the shape, the bitmask of present parts (1 << content type) and a
// JSON scene config. The plugin serves them as float32, int32 and uint8
// (mesh_plugin.py, _serve_mesh_data); TensorBoard's own summary_v2.py
// writes them with those dtypes, which AddMesh does too. PyTorch's add_mesh
// writes all three as DT_FLOAT with json_config "{}" by default.
const (
	meshPluginName = "mesh"

	// MaxMeshPoints bounds the vertices and faces of a mesh: the plugin
	// sends them to the browser in one response.
	MaxMeshPoints = 1 << 24
)

// Mesh is a triangle mesh or point cloud for TensorBoard's Mesh tab.
type Mesh struct {
	// Vertices are x, y, z coordinates; at least one.
	Vertices [][3]float32
	// Faces are triangles as three indices into Vertices; nil for a
	// point cloud.
	Faces [][3]int32
	// Colors are the r, g, b colors of the vertices, one per vertex; nil
	// for the default color.
	Colors [][3]uint8
	// ConfigJSON is a JSON object of three.js scene settings (camera,
	// lights, material); "" means "{}", the default.
	ConfigJSON string
}

// MeshValues returns the summary values of m under tag: tag_VERTEX (a
// DT_FLOAT [1, n, 3] tensor), and when present tag_FACE (DT_INT32
// [1, f, 3]) and tag_COLOR (DT_UINT8 [1, n, 3]), each with its
// MeshPluginData. It returns an error for no vertices, a NaN or infinite
// coordinate, a face index outside [0, n), a color count other than n, too
// many points, or a tag or config that is not valid UTF-8.
func MeshValues(tag string, m Mesh) ([]*tbpb.Summary_Value, error) {
	fail := func(format string, args ...any) ([]*tbpb.Summary_Value, error) {
		return nil, fmt.Errorf("tbwriter: mesh %q: "+format, append([]any{tag}, args...)...)
	}
	if !utf8.ValidString(tag) || !utf8.ValidString(m.ConfigJSON) {
		return fail("tag or config is not valid UTF-8")
	}
	n := len(m.Vertices)
	if n == 0 {
		return fail("no vertices")
	}
	if n > MaxMeshPoints || len(m.Faces) > MaxMeshPoints {
		return fail("%d vertices and %d faces (limit %d each)", n, len(m.Faces), MaxMeshPoints)
	}
	if m.Colors != nil && len(m.Colors) != n {
		return fail("%d colors for %d vertices", len(m.Colors), n)
	}
	cfg := m.ConfigJSON
	if strings.TrimSpace(cfg) == "" {
		cfg = "{}"
	}
	components := uint32(1) << tbpb.MeshPluginData_VERTEX
	if m.Faces != nil {
		components |= 1 << tbpb.MeshPluginData_FACE
	}
	if m.Colors != nil {
		components |= 1 << tbpb.MeshPluginData_COLOR
	}
	le := binary.LittleEndian
	vert := make([]byte, 0, 12*n)
	for i, v := range m.Vertices {
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fail("vertex %d is %v", i, v)
			}
			vert = le.AppendUint32(vert, math.Float32bits(x))
		}
	}
	value := func(ct tbpb.MeshPluginData_ContentType, dtype tbpb.DataType, rows int, content []byte) *tbpb.Summary_Value {
		pd, err := proto.Marshal(&tbpb.MeshPluginData{
			Version: 0, Name: tag, ContentType: ct, JsonConfig: cfg,
			Shape: []int32{1, int32(rows), 3}, Components: components,
		})
		if err != nil {
			panic("tbwriter: marshal MeshPluginData: " + err.Error()) // strings checked above
		}
		return &tbpb.Summary_Value{
			Tag: tag + "_" + ct.String(),
			Metadata: &tbpb.SummaryMetadata{
				PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: meshPluginName, Content: pd},
				DataClass:  tbpb.DataClass_DATA_CLASS_TENSOR,
			},
			Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
				Dtype: dtype,
				TensorShape: &tbpb.TensorShapeProto{Dim: []*tbpb.TensorShapeProto_Dim{
					{Size: 1}, {Size: int64(rows)}, {Size: 3},
				}},
				TensorContent: content,
			}},
		}
	}
	out := []*tbpb.Summary_Value{value(tbpb.MeshPluginData_VERTEX, tbpb.DataType_DT_FLOAT, n, vert)}
	if m.Faces != nil {
		faces := make([]byte, 0, 12*len(m.Faces))
		for i, f := range m.Faces {
			for _, k := range f {
				if k < 0 || int(k) >= n {
					return fail("face %d is %v; indices must be in [0, %d)", i, f, n)
				}
				faces = le.AppendUint32(faces, uint32(k))
			}
		}
		out = append(out, value(tbpb.MeshPluginData_FACE, tbpb.DataType_DT_INT32, len(m.Faces), faces))
	}
	if m.Colors != nil {
		colors := make([]byte, 0, 3*n)
		for _, c := range m.Colors {
			colors = append(colors, c[:]...)
		}
		out = append(out, value(tbpb.MeshPluginData_COLOR, tbpb.DataType_DT_UINT8, n, colors))
	}
	return out, nil
}

// AddMesh logs a mesh (or, with faces nil, a point cloud) under tag at step
// for TensorBoard's Mesh tab; colors may be nil. The three tensors go in
// one event (see MeshValues for the tags and errors). Use MeshValues with
// AddSummary for a scene config.
func (w *Writer) AddMesh(tag string, step int64, vertices [][3]float32, faces [][3]int32, colors [][3]uint8) error {
	vs, err := MeshValues(tag, Mesh{Vertices: vertices, Faces: faces, Colors: colors})
	if err != nil {
		return err
	}
	return w.AddSummary(step, vs...)
}

// MeshPart describes one mesh tensor value.
type MeshPart struct {
	// Data is the value's MeshPluginData (name, content type, shape).
	Data *tbpb.MeshPluginData
	// Values are the tensor's numbers as float64, row-major.
	Values []float64
}

// MeshOf decodes one mesh tensor value: its plugin data and its numbers
// (float32, int32 or uint8 tensor_content, or PyTorch's float_val). ok is
// false when v is not a mesh value or its shape and data disagree.
func MeshOf(v *tbpb.Summary_Value) (MeshPart, bool) {
	pd := v.GetMetadata().GetPluginData()
	if pd.GetPluginName() != meshPluginName {
		return MeshPart{}, false
	}
	md := new(tbpb.MeshPluginData)
	if err := proto.Unmarshal(pd.GetContent(), md); err != nil {
		return MeshPart{}, false
	}
	t := v.GetTensor()
	n := int64(1)
	for _, d := range t.GetTensorShape().GetDim() {
		if d.GetSize() < 0 || d.GetSize() > MaxMeshPoints*3 {
			return MeshPart{}, false
		}
		n *= d.GetSize()
		if n > MaxMeshPoints*3 {
			return MeshPart{}, false
		}
	}
	var vals []float64
	c := t.GetTensorContent()
	switch t.GetDtype() {
	case tbpb.DataType_DT_INT32:
		if int64(len(c)) == 4*n {
			for i := range n {
				vals = append(vals, float64(int32(binary.LittleEndian.Uint32(c[4*i:]))))
			}
		} else if int64(len(t.GetIntVal())) == n {
			for _, x := range t.GetIntVal() {
				vals = append(vals, float64(x))
			}
		} else {
			return MeshPart{}, false
		}
	case tbpb.DataType_DT_UINT8:
		if int64(len(c)) == n {
			for _, x := range c {
				vals = append(vals, float64(x))
			}
		} else if int64(len(t.GetIntVal())) == n {
			for _, x := range t.GetIntVal() {
				vals = append(vals, float64(x))
			}
		} else {
			return MeshPart{}, false
		}
	default:
		var ok bool
		if vals, ok = tensorFloats(t, int(n)); !ok {
			return MeshPart{}, false
		}
	}
	return MeshPart{Data: md, Values: vals}, true
}
