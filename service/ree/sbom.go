package ree

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/diff"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
)

// Names inside an SBOM-defined REE and its rebuild output.
const (
	sbomManifestFormat = "reehub.ree.sbom/v1"
	pinnedName         = "Dockerfile.pinned"
	cycloneDXName      = "sbom.cdx.json"
	spdxName           = "sbom.spdx.json"
	sbomJSONName       = "sbom.json"
	driftName          = "drift.json"
)

// SbomManifest describes an REE defined with the SBOM strategy; it is
// manifest.json in the zip.
type SbomManifest struct {
	Format        string    `json:"format"`
	ReehubVersion string    `json:"reehub_version"`
	PodmanVersion string    `json:"podman_version"`
	CreatedAt     time.Time `json:"created_at"`
	Tag           *string   `json:"tag"`
	// Dockerfile is the user's Dockerfile, under project/.
	Dockerfile string `json:"dockerfile"`
	// PinnedDockerfile is the pinned Dockerfile at the root of the zip; it
	// builds with project/ as its context.
	PinnedDockerfile string `json:"pinned_dockerfile"`
	// BaseImage is the catalogue base image, pinned by image ID.
	BaseImage SbomBaseImage `json:"base_image"`
	// DebianMirror is the mirror apt used, "" for the base image's sources.
	DebianMirror string `json:"debian_mirror"`
	// ImageID is the image the definition built.
	ImageID string `json:"image_id"`
	// Pinned lists every pinned package version.
	Pinned []PinnedPackage `json:"pinned"`
	// Unpinned lists packages the build added that no install could pin.
	Unpinned []PinnedPackage `json:"unpinned"`
	// SBOMs names the SBOM files of the built image.
	SBOMs SbomFiles `json:"sboms"`
}

// SbomBaseImage pins a base image.
type SbomBaseImage struct {
	Name    string `json:"name"`
	ImageID string `json:"image_id"`
}

// SbomFiles names the SBOM documents in a zip.
type SbomFiles struct {
	CycloneDX string `json:"cyclonedx"`
	SPDX      string `json:"spdx"`
	// Native is reehub's own SBOM JSON, which rebuilds compare against.
	Native string `json:"native"`
}

// Drift is drift.json of an SBOM rebuild: the SBOM diff from the definition
// to the rebuilt image.
type Drift struct {
	DefinedImageID string `json:"defined_image_id"`
	RebuiltImageID string `json:"rebuilt_image_id"`
	// Drift is false when the rebuilt image has exactly the defined packages.
	Drift bool `json:"drift"`
	// Summary is one line, also the process's reason.
	Summary string `json:"summary"`
	diff.Report
}

// SbomDefine checks an uploaded project and starts an SBOM definition process.
func (s *Service) SbomDefine(ctx context.Context, o DefineOpts) (process.Process, error) {
	clean, err := cleanDockerfileName(o.Dockerfile)
	if err != nil {
		return process.Process{}, err
	}
	return s.stageAndSubmit(ctx, o.ZipPath, contextInput,
		process.SubmitOpts{OwnerID: o.OwnerID, Tag: o.Tag, Keep: o.Keep, KeepImage: o.KeepImage},
		func(staged string) (string, error) {
			df, err := s.readDockerfile(ctx, staged, clean)
			if err != nil {
				return "", err
			}
			return clean, checkPinnable(df, clean, staged)
		},
		func(digest string) river.JobArgs {
			return SbomDefineArgs{InputDigest: digest, Dockerfile: clean, Tag: o.Tag}
		})
}

// checkPinnable rejects what the SBOM strategy cannot pin, before anything runs.
func checkPinnable(df *dockerfile.File, name, project string) error {
	if n := df.Stages(); n != 1 {
		return fault.Invalidf("dockerfile %s has %d stages; the SBOM strategy pins single-stage Dockerfiles (use /api/recording/create)", name, n)
	}
	installs, err := df.Installs()
	if err != nil {
		return fmt.Errorf("dockerfile %s: %w", name, err)
	}
	for _, in := range installs {
		if in.Tool == dockerfile.ToolNpm && in.FromLockfile && !hasLockfile(project) {
			return fault.Invalidf("dockerfile %s line %d: npm installs from package.json, but the project has no package-lock.json to pin it", name, in.Line)
		}
	}
	return nil
}

// hasLockfile reports whether the project holds an npm lockfile.
func hasLockfile(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "package-lock.json" || d.Name() == "npm-shrinkwrap.json") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// SbomBuild checks an uploaded SBOM-defined REE and starts its rebuild.
func (s *Service) SbomBuild(ctx context.Context, o ReplayOpts) (process.Process, error) {
	return s.stageAndSubmit(ctx, o.ZipPath, treeInput,
		process.SubmitOpts{OwnerID: o.OwnerID, Tag: o.Tag, Keep: o.Keep, KeepImage: o.KeepImage},
		func(staged string) (string, error) {
			m, _, err := verifySbomTree(staged)
			if err != nil {
				return "", fmt.Errorf("file: %w", err)
			}
			return m.Dockerfile, nil
		},
		func(digest string) river.JobArgs { return SbomBuildArgs{InputDigest: digest, Tag: o.Tag} })
}

// sbomRun is what an SBOM definition or rebuild works on.
type sbomRun struct {
	ID          string
	Tag         *string
	Dockerfile  string
	InputDigest string
}

// verifySbomTree checks an extracted SBOM-defined REE (checksums, manifest,
// pinned Dockerfile) and returns its manifest and parsed pinned Dockerfile.
func verifySbomTree(dir string) (SbomManifest, *dockerfile.File, error) {
	var m SbomManifest
	actual, err := verifySums(dir)
	if err != nil {
		return m, nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, nil, fault.Invalidf("not a defined REE: %s is missing", manifestName)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, nil, fault.Invalidf("%s is not valid JSON: %v", manifestName, err)
	}
	if m.Format != sbomManifestFormat {
		return m, nil, fault.Invalidf("%s has format %q; /api/sbom/build reads %q (a recording is rebuilt by /api/recording/build)", manifestName, m.Format, sbomManifestFormat)
	}
	if m.BaseImage.ImageID == "" || m.SBOMs.Native == "" {
		return m, nil, fault.Invalidf("%s lacks base_image or sboms", manifestName)
	}
	for _, name := range []string{pinnedName, m.SBOMs.Native} {
		if _, ok := actual[name]; !ok {
			return m, nil, fault.Invalidf("defined REE lacks %s", name)
		}
	}
	content, err := os.ReadFile(filepath.Join(dir, pinnedName))
	if err != nil {
		return m, nil, fmt.Errorf("read %s: %w", pinnedName, err)
	}
	df, err := dockerfile.Parse(content)
	if err != nil {
		return m, nil, fmt.Errorf("%s: %w", pinnedName, err)
	}
	if bases := df.Bases(); df.Stages() != 1 || len(bases) != 1 || bases[0] != m.BaseImage.ImageID {
		return m, nil, fault.Invalidf("%s must build FROM the pinned base image %s (%s)", pinnedName, m.BaseImage.Name, m.BaseImage.ImageID)
	}
	if _, err := df.Installs(); err != nil {
		return m, nil, fmt.Errorf("%s: %w", pinnedName, err)
	}
	return m, df, nil
}

// sbomDefiner runs SBOM definition processes.
type sbomDefiner struct{ s *Service }

// Cleanup removes what a definition left in Podman.
func (r *sbomDefiner) Cleanup(ctx context.Context, id string) error { return r.s.cleanup(ctx, id) }

// Steps is one step, "define": the online build, its SBOM and the pinned
// definition are one unit (an interrupted definition builds again).
func (r *sbomDefiner) Steps(j job.Job, a SbomDefineArgs) []job.StepDef {
	p := sbomRun{ID: j.ID, Tag: a.Tag, Dockerfile: a.Dockerfile, InputDigest: a.InputDigest}
	return []job.StepDef{r.s.sbomStep("define", p, r.run)}
}

// sbomStep is the one step of an SBOM kind: run packs the output zip, which
// becomes the process's output; then the built image is released.
func (s *Service) sbomStep(name string, p sbomRun, run func(context.Context, sbomRun, *job.Work) (string, error)) job.StepDef {
	return job.StepDef{Name: name, Run: func(ctx context.Context, w *job.Work) error {
		digest, err := run(ctx, p, w)
		if err != nil {
			return err
		}
		if err := w.AddOutput(ctx, process.OutputName, "application/zip", digest); err != nil {
			return err
		}
		s.releaseImage(ctx, w)
		return nil
	}}
}

// run builds the project once online, catalogs the image and pins what it installed.
func (r *sbomDefiner) run(ctx context.Context, p sbomRun, w *job.Work) (string, error) {
	s := r.s
	ctxDir := filepath.Join(w.Dir, "context")
	if err := s.ensureInput(ctx, p.InputDigest, ctxDir); err != nil {
		return "", err
	}
	df, err := s.readDockerfile(ctx, ctxDir, p.Dockerfile)
	if err != nil {
		return "", err
	}
	if err := checkPinnable(df, p.Dockerfile, ctxDir); err != nil {
		return "", err
	}
	installs, err := df.Installs()
	if err != nil {
		return "", err
	}
	baseName := df.Bases()[0]
	img, err := s.catalog.Resolve(ctx, baseName)
	if err != nil {
		return "", err
	}
	m := SbomManifest{
		Format: sbomManifestFormat, ReehubVersion: s.cfg.Version, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Tag: p.Tag, Dockerfile: p.Dockerfile, PinnedDockerfile: pinnedName,
		BaseImage: SbomBaseImage{Name: baseName, ImageID: img.ID}, DebianMirror: s.cfg.DebianMirror,
		Pinned: []PinnedPackage{}, Unpinned: []PinnedPackage{},
		SBOMs: SbomFiles{CycloneDX: cycloneDXName, SPDX: spdxName, Native: sbomJSONName},
	}
	if v, err := s.rt.Version(ctx); err == nil {
		m.PodmanVersion = v
	}
	df.RewriteBases(map[string]string{baseName: img.ID})
	fmt.Fprintf(w.Log, "reehub: defining %s with the SBOM strategy (FROM %s = %s)\n", p.Dockerfile, baseName, shortID(img.ID))

	// The base image's SBOM (cached per image ID) is scanned while the build runs.
	type scanned struct {
		doc *sbom.SBOM
		err error
	}
	baseDone := make(chan scanned, 1)
	go func() {
		doc, err := s.baseSBOM(ctx, baseName, img.ID, w.Dir)
		baseDone <- scanned{doc, err}
	}()
	id, buildErr := s.onlineBuild(ctx, p.ID, ctxDir, df, baseName, w.Log)
	base := <-baseDone
	if buildErr != nil {
		return "", buildErr
	}
	if base.err != nil {
		return "", fmt.Errorf("catalog base image: %w", base.err)
	}
	m.ImageID = id
	built, err := s.scanImage(ctx, id, sbomName(p), w.Dir)
	if err != nil {
		return "", err
	}
	plan := planPins(base.doc, built, installs)
	pinned, err := df.PinInstalls(func(i int, _ dockerfile.Install) []string { return plan.words[i] })
	if err != nil {
		return "", err
	}
	m.Pinned = append(m.Pinned, plan.pinned...)
	m.Unpinned = append(m.Unpinned, plan.unpinned...)
	fmt.Fprintf(w.Log, "reehub: image %s has %d packages; pinned %d package versions\n", shortID(id), len(built.Packages), len(plan.pinned))
	for _, u := range plan.unpinned {
		fmt.Fprintf(w.Log, "reehub: warning: %s package %s %s was added by the build but no install names it; it is not pinned\n", u.Type, u.Name, u.Version)
	}

	out := filepath.Join(w.Dir, "out")
	if err := os.MkdirAll(out, 0o750); err != nil {
		return "", err
	}
	header := fmt.Sprintf("# reehub: pinned by the SBOM strategy; FROM is %s by image ID, build with project/ as the context\n", baseName)
	if err := os.WriteFile(filepath.Join(out, pinnedName), append([]byte(header), pinned...), 0o640); err != nil {
		return "", err
	}
	if err := writeSBOMs(out, built); err != nil {
		return "", err
	}
	if err := os.Rename(ctxDir, filepath.Join(out, "project")); err != nil {
		return "", fmt.Errorf("pack project: %w", err)
	}
	if err := writeJSON(filepath.Join(out, manifestName), m); err != nil {
		return "", err
	}
	fmt.Fprintf(w.Log, "reehub: packing the defined REE\n")
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return "", fmt.Errorf("copy build log: %w", err)
	}
	return s.packDir(ctx, out, nil)
}

// sbomBuilder runs SBOM rebuild processes.
type sbomBuilder struct{ s *Service }

// Cleanup removes what a rebuild left in Podman.
func (r *sbomBuilder) Cleanup(ctx context.Context, id string) error { return r.s.cleanup(ctx, id) }

// Steps is one step, "rebuild": the rebuild, its SBOM and the drift report.
func (r *sbomBuilder) Steps(j job.Job, a SbomBuildArgs) []job.StepDef {
	p := sbomRun{ID: j.ID, Tag: a.Tag, InputDigest: a.InputDigest}
	return []job.StepDef{r.s.sbomStep("rebuild", p, r.run)}
}

// run rebuilds a defined REE online from its pinned Dockerfile and reports drift.
func (r *sbomBuilder) run(ctx context.Context, p sbomRun, w *job.Work) (string, error) {
	s := r.s
	tree := filepath.Join(w.Dir, "ree")
	if err := s.ensureInput(ctx, p.InputDigest, tree); err != nil {
		return "", err
	}
	m, df, err := verifySbomTree(tree)
	if err != nil {
		return "", err
	}
	if _, err := s.rt.InspectImage(ctx, m.BaseImage.ImageID); errors.Is(err, fault.ErrNotFound) {
		return "", fault.Invalidf("the pinned base image %s (%s) is not on this server; load it (podman load of GET /api/image/download/%s where the REE was defined) and build again", m.BaseImage.Name, shortID(m.BaseImage.ImageID), m.BaseImage.Name)
	} else if err != nil {
		return "", err
	}
	var defined sbom.SBOM
	if b, err := os.ReadFile(filepath.Join(tree, m.SBOMs.Native)); err != nil {
		return "", fmt.Errorf("read defined SBOM: %w", err)
	} else if err := json.Unmarshal(b, &defined); err != nil {
		return "", fault.Invalidf("%s is not an SBOM: %v", m.SBOMs.Native, err)
	}
	fmt.Fprintf(w.Log, "reehub: rebuilding %s online with %d pinned package versions\n", pinnedName, len(m.Pinned))
	id, err := s.onlineBuild(ctx, p.ID, filepath.Join(tree, "project"), df, m.BaseImage.Name, w.Log)
	if err != nil {
		return "", err
	}
	out := filepath.Join(w.Dir, "out")
	if err := os.MkdirAll(out, 0o750); err != nil {
		return "", err
	}
	// The OCI export runs beside the scan, which exports the image once more.
	exported := make(chan error, 1)
	go func() { exported <- s.exportOCI(ctx, id, filepath.Join(out, imageOCIName)) }()
	rebuilt, scanErr := s.scanImage(ctx, id, sbomName(p), w.Dir)
	if err := <-exported; err != nil {
		return "", err
	}
	if scanErr != nil {
		return "", scanErr
	}
	d := Drift{DefinedImageID: m.ImageID, RebuiltImageID: id, Report: *diff.Compare(&defined, rebuilt)}
	d.Drift = !d.Report.Empty()
	d.Summary = driftSummary(&d.Report)
	if err := w.SetSummary(ctx, d.Summary); err != nil {
		return "", err
	}
	fmt.Fprintf(w.Log, "reehub: %s\n", d.Summary)
	if err := writeSBOMs(out, rebuilt); err != nil {
		return "", err
	}
	if err := writeJSON(filepath.Join(out, driftName), d); err != nil {
		return "", err
	}
	if err := copyFile(filepath.Join(tree, manifestName), filepath.Join(out, manifestName)); err != nil {
		return "", err
	}
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return "", err
	}
	// Registered before the image is released (sbomStep), exported once into the registry.
	s.registerImage(ctx, w, ProducedImage{ImageID: id, Tag: val(p.Tag), InputDigest: p.InputDigest, BaseImages: map[string]string{m.BaseImage.Name: m.BaseImage.ImageID}})
	return s.packDir(ctx, out, nil)
}

// driftSummary says in one line what changed, naming up to five packages.
func driftSummary(r *diff.Report) string {
	if r.Empty() {
		return "no drift: the rebuilt image has exactly the defined packages and licenses"
	}
	var names []string
	for _, p := range r.Added {
		names = append(names, fmt.Sprintf("+%s %s", p.Name, p.Version))
	}
	for _, p := range r.Removed {
		names = append(names, fmt.Sprintf("-%s %s", p.Name, p.Version))
	}
	for _, c := range r.VersionChanged {
		names = append(names, fmt.Sprintf("%s %s -> %s", c.Name, c.From, c.To))
	}
	for _, c := range r.LicenseChanged {
		names = append(names, fmt.Sprintf("%s license %s -> %s", c.Name, c.From, c.To))
	}
	more := ""
	if len(names) > 5 {
		more = fmt.Sprintf(", and %d more", len(names)-5)
		names = names[:5]
	}
	return fmt.Sprintf("drift: %d added, %d removed, %d version changed, %d license changed (%s%s); see drift.json",
		len(r.Added), len(r.Removed), len(r.VersionChanged), len(r.LicenseChanged), strings.Join(names, ", "), more)
}

func sbomName(p sbomRun) string {
	if p.Tag != nil && *p.Tag != "" {
		return *p.Tag
	}
	return "reehub/" + p.ID
}

// onlineBuild builds df on the default network (apt from the configured
// mirror when there is one) and returns the image ID. A failure naming a
// package version the mirror does not serve says so.
func (s *Service) onlineBuild(ctx context.Context, processID, ctxDir string, df *dockerfile.File, baseName string, log io.Writer) (string, error) {
	text := df.Bytes()
	var secrets map[string][]byte
	if s.cfg.DebianMirror != "" {
		text = df.InjectAptSources()
		secrets = dockerfile.AptSourcesFiles(s.cfg.DebianMirror, suiteOf(baseName))
		fmt.Fprintf(log, "reehub: apt uses the Debian mirror %s\n", s.cfg.DebianMirror)
	}
	missing := &missingScanner{}
	id, err := s.rt.Build(ctx, podman.BuildOpts{
		ContextDir:        ctxDir,
		DockerfileContent: text,
		Tag:               imageName(processID),
		Marks:             processLabels(processID),
		Secrets:           secrets,
		NoCache:           true,
		Squash:            true,
		Log:               io.MultiWriter(log, missing),
	})
	if err == nil {
		return id, nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if errors.Is(err, fault.ErrUnavailable) {
		return "", err
	}
	if found := missing.found(); len(found) > 0 {
		return "", fault.Invalidf("the package mirror does not serve the pinned %s; the definition cannot be rebuilt as pinned", strings.Join(found, ", "))
	}
	return "", fault.New(fault.ErrInvalid, fmt.Sprintf("the build failed: %v", err))
}

// suiteOf returns the Debian suite of a catalogue image (its root's).
func suiteOf(name string) string {
	for range 8 {
		d, err := baseimage.Lookup(name)
		if err != nil {
			break
		}
		if d.Parent == "" {
			return d.Suite
		}
		name = d.Parent
	}
	return "bookworm"
}

// missingPatterns match the messages of package managers that cannot find a
// version: apt ("E: Version '1.5' for 'jq' was not found", "E: Unable to
// locate package jq"), pip ("No matching distribution found for six==0.1")
// and npm ("No matching version found for left-pad@9.9.9").
var missingPatterns = []struct {
	re     *regexp.Regexp
	format func(m []string) string
}{
	{regexp.MustCompile(`Version '([^']+)' for '([^']+)' was not found`), func(m []string) string { return m[2] + "=" + m[1] }},
	{regexp.MustCompile(`Unable to locate package (\S+)`), func(m []string) string { return m[1] }},
	{regexp.MustCompile(`No matching distribution found for (\S+)`), func(m []string) string { return m[1] }},
	{regexp.MustCompile(`No matching version found for (\S+)`), func(m []string) string { return strings.TrimSuffix(m[1], ".") }},
}

// missingScanner collects, from a build log, the package versions a package
// manager could not find.
type missingScanner struct {
	mu      sync.Mutex
	partial []byte
	names   []string
}

// Write scans complete lines.
func (m *missingScanner) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.partial = append(m.partial, p...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			break
		}
		m.scan(string(m.partial[:i]))
		m.partial = m.partial[i+1:]
	}
	if len(m.partial) > 64<<10 {
		m.partial = m.partial[:0]
	}
	return len(p), nil
}

func (m *missingScanner) scan(line string) {
	for _, p := range missingPatterns {
		if sub := p.re.FindStringSubmatch(line); sub != nil {
			name := p.format(sub)
			for _, n := range m.names {
				if n == name {
					return
				}
			}
			m.names = append(m.names, name)
			return
		}
	}
}

func (m *missingScanner) found() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.partial) > 0 {
		m.scan(string(m.partial))
		m.partial = nil
	}
	return append([]string(nil), m.names...)
}

// baseSBOM returns the SBOM of a base image, cached beside its archive.
func (s *Service) baseSBOM(ctx context.Context, name, imageID, tmpDir string) (*sbom.SBOM, error) {
	cached := filepath.Join(s.cfg.BaseImageCacheDir, name+"-"+imageID+".sbom.json")
	if b, err := os.ReadFile(cached); err == nil {
		var doc sbom.SBOM
		if err := json.Unmarshal(b, &doc); err == nil {
			return &doc, nil
		}
	}
	doc, err := s.scanImage(ctx, imageID, name, tmpDir)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	// A temporary name per writer: two definitions may scan the same base at once.
	tmp, err := os.CreateTemp(s.cfg.BaseImageCacheDir, "sbom-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return doc, os.Rename(tmp.Name(), cached)
}

// scanImage exports an image to a temporary archive in dir and catalogs it.
func (s *Service) scanImage(ctx context.Context, ref, name, dir string) (*sbom.SBOM, error) {
	f, err := os.CreateTemp(dir, "image-*.tar")
	if err != nil {
		return nil, fmt.Errorf("scan image: %w", err)
	}
	defer os.Remove(f.Name())
	if err := s.rt.ExportImage(ctx, ref, podman.DockerArchive, f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("export image %s: %w", shortID(ref), err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	src, err := rootfs.OpenArchive(ctx, f.Name(), &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)})
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", shortID(ref), err)
	}
	defer src.Close()
	doc, err := sbom.Scan(ctx, src, &sbom.Options{Name: name})
	if err != nil {
		return nil, fmt.Errorf("catalog image %s: %w", shortID(ref), err)
	}
	doc.Source.Path = "" // a temporary file name
	return doc, nil
}

// exportOCI writes an image as an OCI archive.
func (s *Service) exportOCI(ctx context.Context, id, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := s.rt.ExportImage(ctx, id, podman.OCIArchive, f); err != nil {
		_ = f.Close()
		return fmt.Errorf("export rebuilt image: %w", err)
	}
	return f.Close()
}

// writeSBOMs writes the CycloneDX, SPDX and native SBOMs into dir.
func writeSBOMs(dir string, doc *sbom.SBOM) error {
	for name, write := range map[string]func(io.Writer) error{
		cycloneDXName: doc.WriteCycloneDX,
		spdxName:      doc.WriteSPDXJSON,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			_ = f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, sbomJSONName), doc)
}
