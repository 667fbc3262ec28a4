package podman

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containers/podman/v5/pkg/bindings"

	"github.com/reehub/reehub/fault"
)

// BuildOpts describes one image build. The zero value of every optional field
// means "not set".
type BuildOpts struct {
	// ContextDir is the build context directory. It is read, never written.
	ContextDir string
	// Dockerfile is the Dockerfile's path relative to ContextDir. Defaults to
	// "Dockerfile".
	Dockerfile string
	// Tag names the resulting image, such as "localhost/app:1". Empty leaves
	// the image untagged.
	Tag string
	// Labels are set on the image (and on nothing else).
	Labels map[string]string
	// Marks tag the build's RUN steps like Labels do, so that Cleanup(key,
	// value) finds and stops them after the client died, but without setting
	// anything on the image (a label would change the image ID).
	Marks map[string]string
	// Network is the name of the network RUN steps run on. Empty means the
	// service's default network.
	Network string
	// AddHosts are extra /etc/hosts entries for RUN steps, each "name:ip".
	AddHosts []string
	// BuildArgs are build arguments. The predefined proxy arguments
	// (http_proxy, https_proxy, no_proxy and upper-case forms) reach RUN steps
	// without an ARG and stay out of the image history.
	BuildArgs map[string]string
	// Secrets maps a secret id to its content, for
	// RUN --mount=type=secret,id=ID steps. Secrets never enter the image.
	Secrets map[string][]byte
	// Timestamp pins the created time of the image and the mtimes of the
	// files in its layers (podman build --timestamp). Nil pins nothing.
	Timestamp *time.Time
	// NoCache disables the layer cache.
	NoCache bool
	// DockerfileContent, when set, is the Dockerfile to build instead of the
	// file named by Dockerfile. It is sent in the context under a reserved
	// name that a generated .dockerignore entry keeps out of COPY and ADD, so
	// the image is the same as if the user's Dockerfile had this content.
	DockerfileContent []byte
	// Squash commits everything the Dockerfile adds on top of its base as one
	// layer (layers=false), so files that a later step deletes leave no trace.
	Squash bool
	// UTSNamespace, when set, is the path of a persistent UTS namespace on
	// the service's host (see PrepareUTSNamespace) that every RUN step joins,
	// so that it sees that namespace's fixed hostname instead of the random
	// short ID of its working container (4.3.1's build API has no hostname
	// option, but it takes namespace options). The step's /etc/hostname and
	// $HOSTNAME are then empty. Empty leaves each step its own UTS namespace.
	UTSNamespace string
	// Log receives the build output as it arrives. Nil discards it.
	Log io.Writer
}

// buildTailLines is how many output lines a build error quotes.
const buildTailLines = 15

// secretPrefix starts the names of the secret files placed at the root of the
// uploaded context; the service moves them out of the context before the
// build starts.
const secretPrefix = ".reehub-secret-"

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Build builds an image from o and returns its full ID. Base images are never
// pulled (pull policy "never") and layers are kept (no squashing). Cancelling
// ctx aborts the build and removes the working containers it left behind. A
// failed build returns an error that quotes the last lines of its output.
func (r *Runtime) Build(ctx context.Context, o BuildOpts) (string, error) {
	if o.Dockerfile == "" {
		o.Dockerfile = "Dockerfile"
	}
	if err := checkBuildOpts(o); err != nil {
		return "", err
	}
	secretNames := make(map[string]string, len(o.Secrets)) // id -> file name in the context
	for id := range o.Secrets {
		secretNames[id] = secretPrefix + randomHex(16)
	}
	nonce := randomHex(8)
	o.AddHosts = append(append([]string(nil), o.AddHosts...), buildMarker(nonce)+":"+markAddr)
	for _, k := range sortedKeys(o.Labels) {
		o.AddHosts = append(o.AddHosts, labelMarker(k, o.Labels[k])+":"+markAddr)
	}
	for _, k := range sortedKeys(o.Marks) {
		if _, dup := o.Labels[k]; !dup {
			o.AddHosts = append(o.AddHosts, labelMarker(k, o.Marks[k])+":"+markAddr)
		}
	}
	extra, err := generatedFiles(&o)
	if err != nil {
		return "", err
	}
	params, err := buildParams(o, secretNames)
	if err != nil {
		return "", err
	}

	before, err := r.externalContainers(ctx)
	if err != nil {
		return "", err
	}
	started := time.Now()

	c, cancel := r.callCtx(ctx)
	defer cancel()
	conn, err := bindings.GetClient(c)
	if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	body := contextTar(o.ContextDir, o.Secrets, secretNames, extra, o.Timestamp)
	defer body.Close()
	headers := http.Header{"Content-Type": []string{"application/x-tar"}}
	resp, err := conn.DoRequest(c, body, http.MethodPost, "/build", params, headers)
	if err != nil {
		if ctx.Err() != nil {
			return "", r.buildCancelled(ctx, nonce, before, started, nil)
		}
		return "", r.wrap("build", err)
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return "", r.wrap("build", resp.Process(nil))
	}

	out := newTail(o.Log, buildTailLines)
	id, streamErr := decodeBuildStream(resp.Body, out)
	if ctx.Err() != nil {
		return "", r.buildCancelled(ctx, nonce, before, started, out)
	}
	if streamErr != nil {
		return "", fmt.Errorf("build %s: %w\n%s", o.Dockerfile, streamErr, out.String())
	}
	if id == "" {
		return "", fmt.Errorf("build %s: the service reported no image ID\n%s", o.Dockerfile, out.String())
	}
	if !hexID.MatchString(id) {
		img, err := r.InspectImage(ctx, id)
		if err != nil {
			return "", fmt.Errorf("build %s: %w", o.Dockerfile, err)
		}
		id = img.ID
	}
	return id, nil
}

func checkBuildOpts(o BuildOpts) error {
	st, err := os.Stat(o.ContextDir)
	if err != nil {
		return fault.Invalidf("build context %s: %v", o.ContextDir, err)
	}
	if !st.IsDir() {
		return fault.Invalidf("build context %s is not a directory", o.ContextDir)
	}
	if o.UTSNamespace != "" && !filepath.IsAbs(o.UTSNamespace) {
		return fault.Invalidf("UTS namespace %q must be an absolute path", o.UTSNamespace)
	}
	if !filepath.IsLocal(o.Dockerfile) {
		return fault.Invalidf("Dockerfile path %q must be relative to the build context", o.Dockerfile)
	}
	if o.DockerfileContent == nil {
		if _, err := os.Stat(filepath.Join(o.ContextDir, o.Dockerfile)); err != nil {
			return fault.Invalidf("Dockerfile %s: %v", o.Dockerfile, err)
		}
	}
	for id := range o.Secrets {
		if id == "" || strings.ContainsAny(id, ",=\"") {
			return fault.Invalidf("secret id %q must be non-empty and contain no ',', '=' or '\"'", id)
		}
	}
	for _, h := range o.AddHosts {
		if name, ip, ok := strings.Cut(h, ":"); !ok || name == "" || ip == "" {
			return fault.Invalidf("extra host %q must be name:ip", h)
		}
	}
	return nil
}

func buildParams(o BuildOpts, secretNames map[string]string) (url.Values, error) {
	p := url.Values{}
	setJSON := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("build: encode %s: %w", key, err)
		}
		p.Set(key, string(b))
		return nil
	}
	if err := setJSON("dockerfile", []string{filepath.ToSlash(filepath.Clean(o.Dockerfile))}); err != nil {
		return nil, err
	}
	if o.Tag != "" {
		p.Set("t", o.Tag)
	}
	p.Set("pullpolicy", "never")
	if o.Squash {
		p.Set("layers", "0")
	} else {
		p.Set("layers", "1")
	}
	p.Set("rm", "1")
	p.Set("forcerm", "1")
	p.Set("outputformat", "application/vnd.oci.image.manifest.v1+json")
	if o.NoCache {
		p.Set("nocache", "1")
	}
	if o.Timestamp != nil {
		p.Set("timestamp", strconv.FormatInt(o.Timestamp.Unix(), 10))
	}
	if len(o.Labels) > 0 {
		if err := setJSON("labels", o.Labels); err != nil {
			return nil, err
		}
	}
	if len(o.BuildArgs) > 0 {
		if err := setJSON("buildargs", o.BuildArgs); err != nil {
			return nil, err
		}
	}
	if len(o.AddHosts) > 0 {
		if err := setJSON("extrahosts", o.AddHosts); err != nil {
			return nil, err
		}
	}
	var ns []map[string]string
	if o.Network != "" {
		ns = append(ns, map[string]string{"Name": "network", "Path": o.Network})
	}
	if o.UTSNamespace != "" {
		ns = append(ns, map[string]string{"Name": "uts", "Path": o.UTSNamespace})
	}
	if len(ns) > 0 {
		if err := setJSON("nsoptions", ns); err != nil {
			return nil, err
		}
	}
	if len(secretNames) > 0 {
		ids := sortedKeys(secretNames)
		specs := make([]string, 0, len(ids))
		for _, id := range ids {
			specs = append(specs, "id="+id+",src="+secretNames[id])
		}
		if err := setJSON("secrets", specs); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// generatedDockerfile is the context name of BuildOpts.DockerfileContent.
const generatedDockerfile = ".reehub-Dockerfile"

// generatedFiles returns the root-level files that replace or join the
// context's own when DockerfileContent is set: the Dockerfile under its
// reserved name and a .dockerignore that keeps it (and a .dockerignore that
// reehub created) out of COPY and ADD. It points o.Dockerfile at it.
func generatedFiles(o *BuildOpts) (map[string][]byte, error) {
	if o.DockerfileContent == nil {
		return nil, nil
	}
	ignore, err := os.ReadFile(filepath.Join(o.ContextDir, ".dockerignore"))
	own := errors.Is(err, fs.ErrNotExist)
	if err != nil && !own {
		return nil, fmt.Errorf("build: read .dockerignore: %w", err)
	}
	if len(ignore) > 0 && ignore[len(ignore)-1] != '\n' {
		ignore = append(ignore, '\n')
	}
	ignore = append(ignore, generatedDockerfile+"\n"...)
	if own {
		ignore = append(ignore, ".dockerignore\n"...)
	}
	o.Dockerfile = generatedDockerfile
	return map[string][]byte{generatedDockerfile: o.DockerfileContent, ".dockerignore": ignore}, nil
}

// contextTar streams a tar of dir plus each secret as a root-level file named
// secretNames[id] and the extra root-level files (which replace files of dir
// with the same name). Nothing is written to dir. With a timestamp, every
// entry of dir carries it as its modification time (see writeDirTar).
func contextTar(dir string, secrets map[string][]byte, secretNames map[string]string, extra map[string][]byte, timestamp *time.Time) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := writeDirTar(tw, dir, extra, timestamp)
		for _, name := range sortedKeys(extra) {
			if err != nil {
				break
			}
			content := extra[name]
			err = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
			if err == nil {
				_, err = tw.Write(content)
			}
		}
		for _, id := range sortedKeys(secretNames) {
			if err != nil {
				break
			}
			content := secrets[id]
			err = tw.WriteHeader(&tar.Header{Name: secretNames[id], Mode: 0o600, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
			if err == nil {
				_, err = tw.Write(content)
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// writeDirTar adds the regular files, directories and symlinks under dir to
// tw with paths relative to dir. Sockets, devices and pipes are skipped.
//
// A timestamp replaces the entries' modification times: COPY and ADD keep
// them, and during the build they are visible to the steps, although
// --timestamp sets them in the committed layer. The context of a recording or
// a replay is unpacked from a zip at the time of the process, so its times
// are the unpacking's, new in every build; Python's import system writes
// them into the header of the .pyc files it caches next to a COPY'd package
// (bench/repro py-wheel-build, py-venv-wheel).
func writeDirTar(tw *tar.Writer, dir string, skip map[string][]byte, timestamp *time.Time) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		if _, replaced := skip[filepath.ToSlash(rel)]; replaced {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		link := ""
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(path); err != nil {
				return fmt.Errorf("build context: %w", err)
			}
		case info.Mode().IsRegular(), info.IsDir():
		default:
			return nil
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("build context %s: %w", rel, err)
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if timestamp != nil {
			hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = *timestamp, time.Time{}, time.Time{}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("build context %s: %w", rel, err)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
			return fmt.Errorf("build context %s: %w", rel, err)
		}
		return nil
	})
}

// buildMessage is one JSON object of the service's build stream.
type buildMessage struct {
	Stream      string                    `json:"stream"`
	Error       string                    `json:"error"`
	ErrorDetail *struct{ Message string } `json:"errorDetail"`
	Aux         json.RawMessage           `json:"aux"`
}

// decodeBuildStream copies the stream's output to out and returns the image
// ID the service reported last.
func decodeBuildStream(rd io.Reader, out io.Writer) (string, error) {
	dec := json.NewDecoder(rd)
	id := ""
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return id, nil
			}
			return id, fmt.Errorf("read build output: %w", err)
		}
		if m.Stream != "" {
			if _, err := io.WriteString(out, m.Stream); err != nil {
				return id, fmt.Errorf("write build log: %w", err)
			}
			if s := strings.TrimSpace(m.Stream); hexID.MatchString(s) {
				id = s
			}
		}
		if len(m.Aux) > 0 {
			var aux struct{ ID string }
			if json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
				id = strings.TrimPrefix(aux.ID, "sha256:")
			}
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return id, errors.New(strings.TrimSpace(m.ErrorDetail.Message))
		case m.Error != "":
			return id, errors.New(strings.TrimSpace(m.Error))
		}
	}
}

// tail passes writes to w and remembers the last n lines.
type tail struct {
	w     io.Writer
	n     int
	lines []string
	part  bytes.Buffer
}

func newTail(w io.Writer, n int) *tail {
	if w == nil {
		w = io.Discard
	}
	return &tail{w: w, n: n}
}

func (t *tail) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			t.lines = append(t.lines, t.part.String())
			t.part.Reset()
			if len(t.lines) > t.n {
				t.lines = t.lines[len(t.lines)-t.n:]
			}
			continue
		}
		t.part.WriteByte(b)
	}
	return t.w.Write(p)
}

// String returns the remembered last lines, indented for an error message.
func (t *tail) String() string {
	lines := t.lines
	if t.part.Len() > 0 {
		lines = append(append([]string(nil), lines...), t.part.String())
	}
	if len(lines) > t.n {
		lines = lines[len(lines)-t.n:]
	}
	var b strings.Builder
	b.WriteString("last build output:")
	for _, l := range lines {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux.
	return hex.EncodeToString(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
