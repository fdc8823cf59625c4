package tbwriter

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Audio facts. PyTorch's add_audio (torch/utils/tensorboard/summary.py,
// audio) writes a legacy Summary.Audio holding a 16-bit PCM WAV file made by
// Python's wave module, content type "audio/wav"; samples are clipped to
// [-1, 1] and scaled by 32767 (np.iinfo(np.int16).max) with truncation
// toward zero. TensorBoard's loaders move such values to the "audio"
// plugin (data_compat.py).
const (
	audioPluginName = "audio"
	wavContentType  = "audio/wav"
	wavHeaderSize   = 44      // RIFF header + fmt chunk (16 bytes) + data chunk header
	int16Max        = 32767   // np.iinfo(np.int16).max
	wavFormatPCM    = 1       // WAVE_FORMAT_PCM
	bitsPerSample   = 16      // PyTorch writes sampwidth 2
	maxSampleRate   = 1 << 24 // float32 sample_rate holds every integer up to 2^24 exactly
)

// WAV encodes samples (interleaved by channel: frame i is samples
// [i*channels, (i+1)*channels)) as a 16-bit PCM WAV file, as PyTorch's
// add_audio does for one channel: each sample clipped to [-1, 1], times
// 32767 in float32, truncated toward zero. It returns an error for no
// samples, a length that is not a multiple of channels, channels < 1 or
// > 65535, a sample rate outside [1, 2^24], a NaN sample, or more data
// than a WAV file or an event record holds.
func WAV(samples []float32, channels, sampleRate int) ([]byte, error) {
	if channels < 1 || channels > math.MaxUint16 {
		return nil, fmt.Errorf("tbwriter: audio: %d channels, want 1..65535", channels)
	}
	if sampleRate < 1 || sampleRate > maxSampleRate {
		return nil, fmt.Errorf("tbwriter: audio: sample rate %d Hz, want 1..%d", sampleRate, maxSampleRate)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("tbwriter: audio: no samples")
	}
	if len(samples)%channels != 0 {
		return nil, fmt.Errorf("tbwriter: audio: %d samples is not a whole number of %d-channel frames", len(samples), channels)
	}
	dataLen := 2 * len(samples)
	if dataLen > MaxRecordSize-1024 || uint64(dataLen)+wavHeaderSize-8 > math.MaxUint32 {
		return nil, fmt.Errorf("tbwriter: audio: %w: %d samples make %d bytes of WAV data", ErrRecordTooLarge, len(samples), dataLen)
	}
	blockAlign := channels * bitsPerSample / 8
	b := make([]byte, 0, wavHeaderSize+dataLen)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(wavHeaderSize-8+dataLen))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16) // fmt chunk size for PCM
	b = le.AppendUint16(b, wavFormatPCM)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(sampleRate))
	b = le.AppendUint32(b, uint32(sampleRate*blockAlign))
	b = le.AppendUint16(b, uint16(blockAlign))
	b = le.AppendUint16(b, bitsPerSample)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataLen))
	for i, s := range samples {
		if s != s {
			return nil, fmt.Errorf("tbwriter: audio: sample %d is NaN", i)
		}
		s = min(max(s, -1), 1)
		b = le.AppendUint16(b, uint16(int16(s*int16Max)))
	}
	return b, nil
}

// AudioValue returns samples as the summary value PyTorch's add_audio
// writes: a Summary.Audio with the WAV file (see WAV for the encoding and
// the errors), sample rate, channel count and frame count.
func AudioValue(tag string, samples []float32, channels, sampleRate int) (*tbpb.Summary_Value, error) {
	wav, err := WAV(samples, channels, sampleRate)
	if err != nil {
		return nil, fmt.Errorf("%w (tag %q)", err, tag)
	}
	return &tbpb.Summary_Value{Tag: tag, Value: &tbpb.Summary_Value_Audio{Audio: &tbpb.Summary_Audio{
		SampleRate:         float32(sampleRate),
		NumChannels:        int64(channels),
		LengthFrames:       int64(len(samples) / channels),
		EncodedAudioString: wav,
		ContentType:        wavContentType,
	}}}, nil
}

// AddAudio logs a sound clip under tag at step for TensorBoard's Audio tab:
// samples interleaved by channel, in [-1, 1] (values beyond are clipped),
// at sampleRate Hz. PyTorch's add_audio takes one channel only.
func (w *Writer) AddAudio(tag string, step int64, samples []float32, channels, sampleRate int) error {
	v, err := AudioValue(tag, samples, channels, sampleRate)
	if err != nil {
		return err
	}
	return w.AddSummary(step, v)
}

// AudioInfo describes an audio value.
type AudioInfo struct {
	SampleRate float64
	Channels   int64
	Frames     int64
	// ContentType is the clip's MIME type ("audio/wav").
	ContentType string
	// Encoded is the clip file.
	Encoded []byte
}

// Seconds is the clip's duration (0 when the rate is not positive).
func (a AudioInfo) Seconds() float64 {
	if !(a.SampleRate > 0) {
		return 0
	}
	return float64(a.Frames) / a.SampleRate
}

// AudioOf describes a legacy Summary.Audio value, the form PyTorch and
// AddAudio write; ok is false for anything else.
func AudioOf(v *tbpb.Summary_Value) (AudioInfo, bool) {
	a := v.GetAudio()
	if a == nil {
		return AudioInfo{}, false
	}
	return AudioInfo{SampleRate: float64(a.GetSampleRate()), Channels: a.GetNumChannels(), Frames: a.GetLengthFrames(),
		ContentType: a.GetContentType(), Encoded: a.GetEncodedAudioString()}, true
}
