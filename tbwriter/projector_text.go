package tbwriter

import (
	"strconv"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// FormatProjectorConfig returns c in protobuf text format, byte for byte as
// Python's google.protobuf.text_format.MessageToString prints it (the way
// PyTorch writes projector_config.pbtxt): fields in number order, two
// spaces of indent per level, strings in double quotes with C escapes
// (bytes outside printable ASCII as three octal digits). It is written by
// hand because protobuf-go's prototext output is deliberately unstable
// (its documentation says so), which would make the file differ from
// build to build.
func FormatProjectorConfig(c *tbpb.ProjectorConfig) []byte {
	var b []byte
	b = textString(b, 0, "model_checkpoint_path", c.GetModelCheckpointPath())
	for _, e := range c.GetEmbeddings() {
		b = append(b, "embeddings {\n"...)
		b = textString(b, 1, "tensor_name", e.GetTensorName())
		b = textString(b, 1, "metadata_path", e.GetMetadataPath())
		b = textString(b, 1, "bookmarks_path", e.GetBookmarksPath())
		for _, d := range e.GetTensorShape() {
			b = textUint(b, 1, "tensor_shape", d)
		}
		if s := e.GetSprite(); s != nil {
			b = append(b, "  sprite {\n"...)
			b = textString(b, 2, "image_path", s.GetImagePath())
			for _, d := range s.GetSingleImageDim() {
				b = textUint(b, 2, "single_image_dim", d)
			}
			b = append(b, "  }\n"...)
		}
		b = textString(b, 1, "tensor_path", e.GetTensorPath())
		b = append(b, "}\n"...)
	}
	b = textString(b, 0, "model_checkpoint_dir", c.GetModelCheckpointDir())
	return b
}

func textIndent(b []byte, level int) []byte {
	for range level {
		b = append(b, "  "...)
	}
	return b
}

// textString appends `name: "value"` unless value is empty (proto3 omits it).
func textString(b []byte, level int, name, value string) []byte {
	if value == "" {
		return b
	}
	b = textIndent(b, level)
	b = append(b, name...)
	b = append(b, ": \""...)
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '"':
			b = append(b, `\"`...)
		case '\'':
			b = append(b, `\'`...)
		case '\\':
			b = append(b, `\\`...)
		default:
			if c < 0x20 || c >= 0x7f {
				b = append(b, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, "\"\n"...)
}

func textUint(b []byte, level int, name string, v uint32) []byte {
	b = textIndent(b, level)
	b = append(b, name...)
	b = append(b, ": "...)
	b = strconv.AppendUint(b, uint64(v), 10)
	return append(b, '\n')
}
