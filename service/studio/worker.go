package studio

import (
	"archive/zip"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/apt"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/store"
)

// builder is the worker of Studio builds.
type builder struct{ s *Service }

// Cleanup cancels the build's recording and removes its image.
func (b *builder) Cleanup(ctx context.Context, id string) error {
	s := b.s
	r, err := s.store.StudioBuildByJob(ctx, id)
	if err != nil {
		return nil // nothing was recorded
	}
	if r.ProcessID != "" {
		if p, err := s.procs.Get(ctx, r.OwnerID, r.ProcessID); err == nil && !p.State.Final() {
			_, _ = s.procs.Cancel(ctx, r.OwnerID, r.ProcessID, "the Studio build was stopped")
		}
		_ = s.rt.RemoveImage(ctx, recordedImage(r.ProcessID))
	}
	return nil
}

func recordedImage(processID string) string { return "localhost/reehub/" + processID }

// Steps are render (the appliance into a project and its recording
// submitted), record (wait for the recording), export (the image in its
// type, with checksums) and inventory (the installed packages, from the image).
func (b *builder) Steps(j job.Job, a BuildArgs) []job.StepDef {
	run := &buildRun{s: b.s, jobID: j.ID}
	return []job.StepDef{{Name: "render", Run: run.render}, {Name: "record", Run: run.record}, {Name: "export", Run: run.export}, {Name: "inventory", Run: run.inventory}}
}

type buildRun struct {
	s       *Service
	jobID   string
	row     store.StudioBuild
	archive string
}

func (r *buildRun) render(ctx context.Context, w *job.Work) error {
	s := r.s
	row, err := s.store.StudioBuildByJob(ctx, r.jobID)
	if err != nil {
		return err
	}
	r.row = row
	_ = w.Progress(ctx, 2, "Rendering the appliance into a Dockerfile")
	a, err := s.appliance(ctx, row.OwnerID, row.ApplianceID, false)
	if err != nil {
		return err
	}
	if slices.Contains(DiskImageTypes, row.ImageType) {
		if s.cfg.Disks == nil {
			return s.checkImageType(row.ImageType)
		}
		arch, err := archOf(a.Arch)
		if err != nil {
			return err
		}
		for _, p := range s.cfg.Disks.BootPackages(row.ImageType, arch) {
			if !slices.ContainsFunc(a.Packages, func(q Package) bool { return q.Name == p }) {
				a.Packages = append(a.Packages, Package{Name: p})
			}
		}
	}
	res, err := s.resolve(ctx, row.OwnerID, a)
	if err != nil {
		return err
	}
	if a.BaseImage, err = s.baseImageOf(a); err != nil {
		return err
	}
	if a.Arch != "x86_64" {
		_ = w.Progress(ctx, 3, "Preparing the "+a.BaseImage+" base image (built on demand)")
		fmt.Fprintf(w.Log, "studio: ensuring base image %s\n", a.BaseImage)
		if err := s.cfg.EnsureBaseImage(ctx, a.BaseImage); err != nil {
			return fmt.Errorf("build the base image %s: %w", a.BaseImage, err)
		}
	}
	if len(res.res.Problems) > 0 {
		return fault.Invalidf("the appliance has issues: %s", res.res.Problems[0].Text)
	}
	dir := filepath.Join(w.Dir, "project")
	if err := s.renderProject(ctx, dir, a, res, row); err != nil {
		return err
	}
	zipPath := filepath.Join(s.cfg.StagingDir, "studio-"+r.jobID+".zip")
	if err := zipDir(dir, zipPath); err != nil {
		return fmt.Errorf("pack the project: %w", err)
	}
	defer os.Remove(zipPath)
	tag := fmt.Sprintf("studio appliance %d build %d (%s %s)", a.ID, row.ID, row.Version, row.ImageType)
	// Keep: the build serves the recording as its defined REE, so retention
	// spares it; KeepImage: the build exports the image, then removes it itself.
	p, err := s.ree.Define(ctx, ree.DefineOpts{OwnerID: row.OwnerID, ZipPath: zipPath, Tag: &tag, Keep: true, KeepImage: true})
	if err != nil {
		return fmt.Errorf("submit the recording: %w", err)
	}
	r.row.ProcessID, r.row.State = p.ID, "running"
	fmt.Fprintf(w.Log, "studio: recording process %s\n", p.ID)
	return s.store.SaveStudioBuild(ctx, &r.row)
}

func (r *buildRun) record(ctx context.Context, w *job.Work) error {
	s, row := r.s, r.row
	for {
		j, err := s.engine.Get(ctx, row.OwnerID, row.ProcessID)
		if err != nil {
			return err
		}
		if j.State.Final() {
			if j.State != job.StateSucceeded {
				return fault.Invalidf("the recording %s %s: %s", row.ProcessID, j.State, j.Reason)
			}
			break
		}
		msg := "Recording the build"
		if j.Progress.Message != "" {
			msg += ": " + j.Progress.Message
		}
		_ = w.Progress(ctx, 5+j.Progress.Percent*70/100, msg)
		select {
		case <-ctx.Done():
			_, _ = s.procs.Cancel(context.WithoutCancel(ctx), row.OwnerID, row.ProcessID, "the Studio build was cancelled")
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	img, err := s.rt.InspectImage(ctx, recordedImage(row.ProcessID))
	if err != nil {
		return fmt.Errorf("find the recorded image: %w", err)
	}
	r.row.ImageID = img.ID
	return nil
}

func (r *buildRun) export(ctx context.Context, w *job.Work) error {
	s := r.s
	_ = w.Progress(ctx, 80, "Exporting the image as "+r.row.ImageType)
	r.archive = filepath.Join(w.Dir, "image.tar")
	if err := exportTo(ctx, s.rt, r.row.ImageID, podman.DockerArchive, r.archive); err != nil {
		return err
	}
	artifact := r.archive
	switch t := r.row.ImageType; {
	case t == "oci":
		artifact = filepath.Join(w.Dir, "image.oci.tar")
		if err := exportTo(ctx, s.rt, r.row.ImageID, podman.OCIArchive, artifact); err != nil {
			return err
		}
	case t == "rootfs":
		artifact = filepath.Join(w.Dir, "rootfs.tar.gz")
		if err := r.exportRootFS(ctx, artifact, true); err != nil {
			return err
		}
	case slices.Contains(DiskImageTypes, t):
		if s.cfg.Disks == nil {
			return s.checkImageType(t)
		}
		tarPath := filepath.Join(w.Dir, "rootfs.tar")
		if err := r.exportRootFS(ctx, tarPath, false); err != nil {
			return err
		}
		a, err := s.appliance(ctx, r.row.OwnerID, r.row.ApplianceID, false)
		if err != nil {
			return err
		}
		arch, err := archOf(a.Arch)
		if err != nil {
			return err
		}
		_ = w.Progress(ctx, 84, "Assembling the "+t+" disk image")
		artifact, err = s.cfg.Disks.Assemble(ctx, DiskRequest{ImageType: t, RootFS: tarPath, Dir: w.Dir, Arch: arch,
			Name: a.Name, Version: r.row.Version, Log: w.Log,
			Progress: func(pct int, msg string) { _ = w.Progress(ctx, 84+pct*6/100, msg) }})
		if err != nil {
			return fmt.Errorf("assemble the %s disk: %w", t, err)
		}
		_ = os.Remove(tarPath)
	}
	fi, err := os.Stat(artifact)
	if err != nil {
		return err
	}
	r.row.Size = fi.Size()
	if r.row.MD5, r.row.SHA1, r.row.SHA256, r.row.CompressedSize, err = sums(artifact); err != nil {
		return err
	}
	ref, err := s.blobs.PutFile(ctx, artifact, artifact != r.archive)
	if err != nil {
		return fmt.Errorf("store the image: %w", err)
	}
	r.row.Digest = ref.Digest
	return nil
}

// exportRootFS writes the root file system of the built image as a tar
// (gzip-compressed when compress) through a created, never started, container.
func (r *buildRun) exportRootFS(ctx context.Context, dst string, compress bool) error {
	s := r.s
	id, err := s.rt.CreateContainer(ctx, podman.ContainerOpts{Image: r.row.ImageID, Command: []string{"/bin/true"},
		Labels: map[string]string{"reehub.job": r.jobID}})
	if err != nil {
		return fmt.Errorf("export the root file system: %w", err)
	}
	defer func() { _ = s.rt.RemoveContainer(context.WithoutCancel(ctx), id) }()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	var out io.Writer = f
	var gz *gzip.Writer
	if compress {
		gz = gzip.NewWriter(f)
		out = gz
	}
	if err := s.rt.ExportContainer(ctx, id, out); err != nil {
		_ = f.Close()
		return fmt.Errorf("export the root file system: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			_ = f.Close()
			return err
		}
	}
	return f.Close()
}

func (r *buildRun) inventory(ctx context.Context, w *job.Work) error {
	s := r.s
	_ = w.Progress(ctx, 92, "Listing the installed packages")
	src, err := rootfs.OpenArchive(ctx, r.archive, &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)})
	if err != nil {
		return fmt.Errorf("open the image: %w", err)
	}
	doc, err := sbom.Scan(ctx, src, &sbom.Options{Name: r.row.ImageID})
	_ = src.Close()
	if err != nil {
		return fmt.Errorf("catalog the image: %w", err)
	}
	var inst []Found
	for _, p := range doc.Packages {
		if p.Type == "deb" {
			inst = append(inst, Found{Name: p.Name, Version: p.Version, Arch: p.Arch, Summary: p.Description})
		}
	}
	sort.Slice(inst, func(i, j int) bool { return inst[i].Name < inst[j].Name })
	b, _ := json.Marshal(inst)
	r.row.Installed = string(b)
	ref, err := s.blobs.PutFile(ctx, r.archive, true)
	if err != nil {
		return fmt.Errorf("store the image archive: %w", err)
	}
	r.row.ImageArchive = ref.Digest
	now := time.Now().UTC()
	r.row.State, r.row.CompletedAt = "finished", &now
	_ = s.rt.RemoveImage(ctx, recordedImage(r.row.ProcessID))
	if err := s.store.SaveStudioBuild(ctx, &r.row); err != nil {
		return err
	}
	if s.cfg.OnFinished != nil {
		a, aerr := s.appliance(ctx, r.row.OwnerID, r.row.ApplianceID, false)
		path, perr := s.blobs.Path(r.row.ImageArchive)
		if err := errors.Join(aerr, perr); err == nil {
			err = s.cfg.OnFinished(ctx, FinishedBuild{Build: s.view(ctx, r.row), OwnerID: r.row.OwnerID, ApplianceName: a.Name, ImageArchive: path})
			if err != nil {
				s.log.WarnContext(ctx, "register the finished build", "build", r.row.ID, "err", err)
			}
		}
	}
	return nil
}

func exportTo(ctx context.Context, rt *podman.Runtime, id string, format podman.ArchiveFormat, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := rt.ExportImage(ctx, id, format, f); err != nil {
		_ = f.Close()
		return fmt.Errorf("export the image: %w", err)
	}
	return f.Close()
}

// sums returns the checksums of a file and its gzip-compressed size.
func sums(p string) (md5hex, sha1hex, sha256hex string, compressed int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", "", 0, err
	}
	defer f.Close()
	hm, h1, h2 := md5.New(), sha1.New(), sha256.New()
	cw := &countWriter{}
	gz := gzip.NewWriter(cw)
	if _, err := io.Copy(io.MultiWriter(hm, h1, h2, gz), f); err != nil {
		return "", "", "", 0, err
	}
	_ = gz.Close()
	return hex.EncodeToString(hm.Sum(nil)), hex.EncodeToString(h1.Sum(nil)), hex.EncodeToString(h2.Sum(nil)), cw.n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// renderProject writes the Dockerfile and its context: the repositories as
// sources.list, the user's packages as a local archive, the overlay files.
func (s *Service) renderProject(ctx context.Context, dir string, a Appliance, res resolved, row store.StudioBuild) error {
	if err := os.MkdirAll(filepath.Join(dir, "studio"), 0o750); err != nil {
		return err
	}
	repos, err := s.reposOf(ctx, row.OwnerID, a)
	if err != nil {
		return err
	}
	var sources strings.Builder
	user := false
	for _, r := range repos {
		if r.Type == userRepoType {
			user = true
			sources.WriteString("deb [trusted=yes] file:/opt/reehub/userrepo ./\n")
			continue
		}
		fmt.Fprintf(&sources, "deb %s %s %s\n", r.BaseURL, r.Suite, strings.Join(r.Components, " "))
	}
	if err := os.WriteFile(filepath.Join(dir, "studio", "sources.list"), []byte(sources.String()), 0o644); err != nil {
		return err
	}
	var df strings.Builder
	img, err := s.rt.InspectImage(ctx, "localhost/"+a.BaseImage+":latest")
	if err != nil {
		return fmt.Errorf("find the base image %s: %w", a.BaseImage, err)
	}
	fmt.Fprintf(&df, "# Appliance %q (%s), version %s; template base %s = %s\n", a.Name, a.UUID, row.Version, a.BaseImage, img.ID)
	fmt.Fprintf(&df, "FROM %s\n", a.BaseImage)
	df.WriteString("RUN rm -f /etc/apt/sources.list.d/*\nCOPY studio/sources.list /etc/apt/sources.list\n")
	if user {
		udir := filepath.Join(dir, "studio", "userrepo")
		if err := os.MkdirAll(udir, 0o750); err != nil {
			return err
		}
		rpms, err := s.store.StudioRpms(ctx, row.OwnerID, a.Basesystem)
		if err != nil {
			return err
		}
		var idx strings.Builder
		for _, p := range rpms {
			if err := s.copyBlob(ctx, p.Digest, filepath.Join(udir, p.Filename), 0o644); err != nil {
				return err
			}
			idx.WriteString(p.Control + "\n")
		}
		if err := os.WriteFile(filepath.Join(udir, "Packages"), []byte(idx.String()), 0o644); err != nil {
			return err
		}
		df.WriteString("COPY studio/userrepo/ /opt/reehub/userrepo/\n")
	}
	var pins []string
	for _, p := range res.res.Packages {
		pins = append(pins, p.Name+"="+p.Version)
	}
	if len(pins) > 0 {
		fmt.Fprintf(&df, "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s && apt-get clean && rm -rf /var/lib/apt/lists/* && %s\n", strings.Join(pins, " "), machineSecrets)
	}
	if slices.ContainsFunc(res.res.Packages, func(p apt.Package) bool { return p.Name == "openssh-server" }) {
		// The host keys removed above are made when sshd first starts.
		if err := os.WriteFile(filepath.Join(dir, "studio", "ssh-hostkeys.conf"), []byte(sshHostKeysDropIn), 0o644); err != nil {
			return err
		}
		df.WriteString("COPY studio/ssh-hostkeys.conf /etc/systemd/system/ssh.service.d/reehub-hostkeys.conf\n")
	}
	files, err := s.store.StudioFiles(ctx, a.ID)
	if err != nil {
		return err
	}
	var units unitServices
	for _, f := range files {
		if !f.Enabled {
			continue
		}
		dst, err := overlayPath(f.Path, f.Filename)
		if err != nil {
			return err
		}
		if d, ok := dependEntry(dst); ok {
			// systemd ignores a regular file there; the entry becomes the
			// symlink systemctl makes.
			units.deps = append(units.deps, d)
			continue
		}
		local := filepath.Join(dir, "overlay", filepath.FromSlash(dst))
		if err := os.MkdirAll(filepath.Dir(local), 0o750); err != nil {
			return err
		}
		if err := s.copyBlob(ctx, f.Digest, local, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&df, "COPY overlay%s %s\nRUN chown %s:%s %s && chmod %s %s\n", dst, dst, f.Owner, f.Grp, dst, f.Permissions, dst)
		content, err := os.ReadFile(local)
		if err != nil {
			return fmt.Errorf("read overlay file %d: %w", f.ID, err)
		}
		if enableable(dst, content) {
			units.enable = append(units.enable, path.Base(dst))
		}
	}
	df.WriteString(units.step())
	return os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df.String()), 0o644)
}

// machineSecrets removes what package scripts generate at random per
// machine: SSH host keys (openssh-server's postinst) and the machine id
// (systemd's; an empty /etc/machine-id is made at first boot). An appliance
// build must replay to the same image ID, and two machines from one image
// must not share them.
const machineSecrets = "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub /var/lib/dbus/machine-id && if [ -s /etc/machine-id ]; then : > /etc/machine-id; fi"

// sshHostKeysDropIn makes the missing host keys before sshd starts: before
// Debian's own configuration test (sshd -t), which fails without keys.
const sshHostKeysDropIn = "[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n"

func (s *Service) copyBlob(ctx context.Context, digest, dst string, mode os.FileMode) error {
	in, err := s.blobs.Open(ctx, digest)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func zipDir(dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := zip.FileInfoHeader(fi)
		if err != nil {
			return err
		}
		h.Name, h.Method = filepath.ToSlash(rel), zip.Deflate
		h.Modified = time.Unix(0, 0).UTC()
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Cancel stops a running build; nothing of it is left.
func (s *Service) Cancel(ctx context.Context, ownerID, id int64) error {
	r, err := s.buildRow(ctx, ownerID, id, "invalid_running_build_id")
	if err != nil {
		return err
	}
	if v := s.view(ctx, r); v.State != "queued" && v.State != "running" {
		return invalid("invalid_running_build_id", "build %d is not running (it is %s)", id, v.State)
	}
	if _, err := s.engine.Cancel(ctx, ownerID, r.JobID, "cancelled through the Studio API"); err != nil {
		return err
	}
	if r.ProcessID != "" {
		_, _ = s.procs.Cancel(ctx, ownerID, r.ProcessID, "the Studio build was cancelled")
	}
	s.removeBuildFiles(ctx, r)
	return s.store.DeleteStudioBuild(ctx, r.ID)
}

// DeleteBuild deletes a finished build and its files.
func (s *Service) DeleteBuild(ctx context.Context, ownerID, id int64) error {
	r, err := s.buildRow(ctx, ownerID, id, "invalid_build_id")
	if err != nil {
		return err
	}
	if v := s.view(ctx, r); v.State == "queued" || v.State == "running" {
		return coded("image_is_locked", fault.Invalidf("build %d is running; cancel it instead", id))
	}
	s.removeBuildFiles(ctx, r)
	return s.store.DeleteStudioBuild(ctx, r.ID)
}

func (s *Service) removeBuildFiles(ctx context.Context, r store.StudioBuild) {
	for _, d := range []string{r.Digest, r.ImageArchive} {
		if d != "" {
			_ = s.blobs.Delete(ctx, d)
		}
	}
}

// OpenImage opens a finished build's image file.
func (s *Service) OpenImage(ctx context.Context, ownerID, id int64) (io.ReadSeekCloser, Build, error) {
	r, err := s.buildRow(ctx, ownerID, id, "invalid_build_id")
	if err != nil {
		return nil, Build{}, err
	}
	if r.State != "finished" || r.Digest == "" {
		return nil, Build{}, coded("build_not_found", fault.NotFoundf("build %d has not finished", id))
	}
	f, err := s.blobs.Open(ctx, r.Digest)
	return f, s.view(ctx, r), err
}

// OpenREE opens the defined REE of a finished build.
func (s *Service) OpenREE(ctx context.Context, ownerID, id int64) (io.ReadSeekCloser, error) {
	r, err := s.buildRow(ctx, ownerID, id, "invalid_build_id")
	if err != nil {
		return nil, err
	}
	if r.ProcessID == "" {
		return nil, coded("build_not_found", fault.NotFoundf("build %d has no recording yet", id))
	}
	f, _, err := s.procs.OpenOutput(ctx, ownerID, r.ProcessID)
	return f, err
}

// BuildInstalled lists the packages of a finished build's image.
func (s *Service) BuildInstalled(ctx context.Context, ownerID, applianceID, buildID int64) ([]Found, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return nil, err
	}
	r, err := s.buildRow(ctx, ownerID, buildID, "invalid_build_id")
	if err != nil || r.ApplianceID != applianceID {
		return nil, notFound("invalid_build_id", "build %d not found", buildID)
	}
	var out []Found
	_ = json.Unmarshal([]byte(r.Installed), &out)
	return out, nil
}

// ImageFile returns one file of a finished build's image.
func (s *Service) ImageFile(ctx context.Context, ownerID, applianceID, buildID int64, p string) ([]byte, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return nil, err
	}
	r, err := s.buildRow(ctx, ownerID, buildID, "invalid_build_id")
	if err != nil || r.ApplianceID != applianceID || r.ImageArchive == "" {
		return nil, notFound("invalid_build_id", "build %d not found or not finished", buildID)
	}
	arch, err := s.blobs.LocalPath(ctx, r.ImageArchive)
	if err != nil {
		return nil, err
	}
	src, err := rootfs.OpenArchive(ctx, arch, &rootfs.ArchiveOptions{Keep: func(name string, _ os.FileMode, _ int64) bool { return rootfs.Clean(name) == rootfs.Clean(p) }})
	if err != nil {
		return nil, fmt.Errorf("open the image: %w", err)
	}
	defer src.Close()
	b, err := readFS(src, strings.TrimPrefix(rootfs.Clean(p), "/"))
	if err != nil {
		return nil, notFound("invalid_path", "the image has no file %s", p)
	}
	return b, nil
}

func readFS(src rootfs.Source, name string) ([]byte, error) {
	f, err := src.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}
