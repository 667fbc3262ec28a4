package studio

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/apt"
	"github.com/reehub/reehub/store"
)

// File is an overlay file of an appliance.
type File struct {
	ID, ApplianceID                           int64
	Filename, Path, Owner, Group, Permissions string
	Enabled                                   bool
	Size                                      int64
	MD5                                       string
}

func fileFromRow(r store.StudioFile) File {
	return File{ID: r.ID, ApplianceID: r.ApplianceID, Filename: r.Filename, Path: r.Path, Owner: r.Owner, Group: r.Grp,
		Permissions: r.Permissions, Enabled: r.Enabled, Size: r.Size, MD5: r.MD5}
}

// FileMeta is the metadata a client may set; nil fields keep their value.
type FileMeta struct {
	Filename, Path, Owner, Group, Permissions *string
	Enabled                                   *bool
}

// overlayPath joins a directory and a file name into the absolute path in the
// appliance, refusing anything that escapes the root.
func overlayPath(dir, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", invalid("invalid_path", "filename %q must be a plain file name", name)
	}
	if !strings.HasPrefix(dir, "/") || strings.ContainsRune(dir, 0) {
		return "", invalid("invalid_path", "path %q must be an absolute directory", dir)
	}
	for _, part := range strings.Split(dir, "/") {
		if part == ".." {
			return "", invalid("invalid_path", "path %q escapes the root of the appliance", dir)
		}
	}
	return path.Join(path.Clean(dir), name), nil
}

var nameOK = func(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func checkMeta(f *store.StudioFile) error {
	if _, err := overlayPath(f.Path, f.Filename); err != nil {
		return err
	}
	if !nameOK(f.Owner) || !nameOK(f.Grp) {
		return invalid("invalid_value", "owner %q and group %q must be user and group names", f.Owner, f.Grp)
	}
	m, err := strconv.ParseUint(f.Permissions, 8, 32)
	if err != nil || m > 0o7777 {
		return invalid("invalid_value", "permissions %q must be an octal mode such as 644", f.Permissions)
	}
	return nil
}

func applyMeta(f *store.StudioFile, m FileMeta) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&f.Filename, m.Filename)
	set(&f.Path, m.Path)
	set(&f.Owner, m.Owner)
	set(&f.Grp, m.Group)
	set(&f.Permissions, m.Permissions)
	if m.Enabled != nil {
		f.Enabled = *m.Enabled
	}
}

// Files lists the overlay files of an appliance.
func (s *Service) Files(ctx context.Context, ownerID, applianceID int64) ([]File, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return nil, err
	}
	rows, err := s.store.StudioFiles(ctx, applianceID)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(rows))
	for _, r := range rows {
		out = append(out, fileFromRow(r))
	}
	return out, nil
}

// sums stores a staged file as a blob and returns its digest, size and md5.
func (s *Service) putFile(ctx context.Context, staged string) (digest string, size int64, md5hex string, sha string, err error) {
	f, err := os.Open(staged)
	if err != nil {
		return "", 0, "", "", fmt.Errorf("read upload: %w", err)
	}
	hm, hs := md5.New(), sha256.New()
	size, err = io.Copy(io.MultiWriter(hm, hs), f)
	_ = f.Close()
	if err != nil {
		return "", 0, "", "", fmt.Errorf("read upload: %w", err)
	}
	ref, err := s.blobs.PutFile(ctx, staged, true)
	if err != nil {
		return "", 0, "", "", fmt.Errorf("store upload: %w", err)
	}
	return ref.Digest, size, hex.EncodeToString(hm.Sum(nil)), hex.EncodeToString(hs.Sum(nil)), nil
}

// AddFile adds an overlay file from a staged upload (moved into the blob store).
func (s *Service) AddFile(ctx context.Context, ownerID, applianceID int64, staged, uploadName string, m FileMeta) (File, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return File{}, err
	}
	row := store.StudioFile{ApplianceID: applianceID, Filename: path.Base(uploadName), Path: "/", Owner: "root", Grp: "root",
		Permissions: "644", Enabled: true, CreatedAt: time.Now().UTC()}
	applyMeta(&row, m)
	if err := checkMeta(&row); err != nil {
		return File{}, err
	}
	var err error
	if row.Digest, row.Size, row.MD5, _, err = s.putFile(ctx, staged); err != nil {
		return File{}, err
	}
	if err := s.store.SaveStudioFile(ctx, &row); err != nil {
		return File{}, err
	}
	return fileFromRow(row), nil
}

func (s *Service) fileRow(ctx context.Context, ownerID, id int64) (store.StudioFile, error) {
	r, err := s.store.StudioFileOf(ctx, ownerID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return r, notFound("invalid_overlay_file_id", "overlay file %d not found", id)
	}
	return r, err
}

// File returns an overlay file's metadata.
func (s *Service) File(ctx context.Context, ownerID, id int64) (File, error) {
	r, err := s.fileRow(ctx, ownerID, id)
	return fileFromRow(r), err
}

// UpdateFile changes an overlay file's metadata.
func (s *Service) UpdateFile(ctx context.Context, ownerID, id int64, m FileMeta) (File, error) {
	r, err := s.fileRow(ctx, ownerID, id)
	if err != nil {
		return File{}, err
	}
	applyMeta(&r, m)
	if err := checkMeta(&r); err != nil {
		return File{}, err
	}
	return fileFromRow(r), s.store.SaveStudioFile(ctx, &r)
}

// ReplaceFileData replaces an overlay file's content.
func (s *Service) ReplaceFileData(ctx context.Context, ownerID, id int64, staged string) (File, error) {
	r, err := s.fileRow(ctx, ownerID, id)
	if err != nil {
		return File{}, err
	}
	if r.Digest, r.Size, r.MD5, _, err = s.putFile(ctx, staged); err != nil {
		return File{}, err
	}
	return fileFromRow(r), s.store.SaveStudioFile(ctx, &r)
}

// OpenFileData opens an overlay file's content.
func (s *Service) OpenFileData(ctx context.Context, ownerID, id int64) (io.ReadSeekCloser, File, error) {
	r, err := s.fileRow(ctx, ownerID, id)
	if err != nil {
		return nil, File{}, err
	}
	f, err := s.blobs.Open(ctx, r.Digest)
	return f, fileFromRow(r), err
}

// DeleteFile deletes an overlay file.
func (s *Service) DeleteFile(ctx context.Context, ownerID, id int64) error {
	if _, err := s.fileRow(ctx, ownerID, id); err != nil {
		return err
	}
	return s.store.DeleteStudioFile(ctx, id)
}

// Rpm is an uploaded package (always a .deb here).
type Rpm struct {
	ID                             int64
	Filename, BaseSystem           string
	Size                           int64
	MD5                            string
	Package, Version, Architecture string
}

func rpmFromRow(r store.StudioRpm) Rpm {
	return Rpm{ID: r.ID, Filename: r.Filename, BaseSystem: r.BaseSystem, Size: r.Size, MD5: r.MD5, Package: r.Package, Version: r.Version, Architecture: r.Architecture}
}

func paragraphOf(control string) (apt.Paragraph, error) {
	var out apt.Paragraph
	err := apt.ReadParagraphs(strings.NewReader(control), func(p apt.Paragraph) error {
		if out.Fields == nil {
			out = p
		}
		return nil
	})
	if err == nil && out.Fields == nil {
		err = errors.New("empty control")
	}
	return out, err
}

// readDeb checks that a staged upload is a .deb and returns its control paragraph.
func readDeb(staged, filename string) (apt.Paragraph, error) {
	if strings.HasSuffix(strings.ToLower(filename), ".rpm") {
		return apt.Paragraph{}, invalid("invalid_file", "%s is an RPM; Debian appliances take .deb packages", filename)
	}
	p, err := apt.ReadDebControl(staged)
	if errors.Is(err, apt.ErrNotDeb) {
		if b, rerr := os.ReadFile(staged); rerr == nil && len(b) >= 4 && string(b[:4]) == "\xed\xab\xee\xdb" {
			return apt.Paragraph{}, invalid("invalid_file", "%s is an RPM; Debian appliances take .deb packages", filename)
		}
		return apt.Paragraph{}, invalid("invalid_file", "%s: %v; Debian appliances take .deb packages", filename, err)
	}
	if err != nil {
		return apt.Paragraph{}, err
	}
	if !validName(p.Get("Package")) {
		return apt.Paragraph{}, invalid("invalid_file", "%s: package name %q is invalid", filename, p.Get("Package"))
	}
	return p, nil
}

// UploadRpm adds a .deb to the user's repository.
func (s *Service) UploadRpm(ctx context.Context, ownerID int64, baseSystem, staged, filename string) (Rpm, error) {
	if baseSystem == "" {
		baseSystem = Basesystem
	}
	if baseSystem != Basesystem {
		return Rpm{}, invalid("invalid_base_system", "base system %q is not supported; use %s", baseSystem, Basesystem)
	}
	p, err := readDeb(staged, filename)
	if err != nil {
		return Rpm{}, err
	}
	row := store.StudioRpm{OwnerID: ownerID, BaseSystem: baseSystem, CreatedAt: time.Now().UTC()}
	return s.storeRpm(ctx, &row, p, staged, filename)
}

func (s *Service) storeRpm(ctx context.Context, row *store.StudioRpm, p apt.Paragraph, staged, filename string) (Rpm, error) {
	var err error
	if row.Digest, row.Size, row.MD5, row.SHA256, err = s.putFile(ctx, staged); err != nil {
		return Rpm{}, err
	}
	row.Filename = fmt.Sprintf("%s_%s_%s.deb", p.Get("Package"), strings.ReplaceAll(p.Get("Version"), ":", "%3a"), p.Get("Architecture"))
	if filename != "" && strings.HasSuffix(filename, ".deb") && !strings.ContainsAny(filename, "/\\") {
		row.Filename = filename
	}
	row.Package, row.Version, row.Architecture = p.Get("Package"), p.Get("Version"), p.Get("Architecture")
	p.Fields["Filename"] = "./" + row.Filename
	p.Fields["Size"] = fmt.Sprint(row.Size)
	p.Fields["SHA256"] = row.SHA256
	p.Fields["MD5sum"] = row.MD5
	p.Order = append(p.Order, "Filename", "Size", "SHA256", "MD5sum")
	row.Control = p.Text()
	if err := s.store.SaveStudioRpm(ctx, row); err != nil {
		return Rpm{}, err
	}
	return rpmFromRow(*row), nil
}

func (s *Service) rpmRow(ctx context.Context, ownerID, id int64) (store.StudioRpm, error) {
	r, err := s.store.StudioRpmOf(ctx, ownerID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return r, notFound("invalid_rpm_id", "rpm %d not found", id)
	}
	return r, err
}

// Rpms lists the user's packages.
func (s *Service) Rpms(ctx context.Context, ownerID int64, baseSystem string) ([]Rpm, error) {
	rows, err := s.store.StudioRpms(ctx, ownerID, baseSystem)
	if err != nil {
		return nil, err
	}
	out := make([]Rpm, 0, len(rows))
	for _, r := range rows {
		out = append(out, rpmFromRow(r))
	}
	return out, nil
}

// Rpm returns one package.
func (s *Service) Rpm(ctx context.Context, ownerID, id int64) (Rpm, error) {
	r, err := s.rpmRow(ctx, ownerID, id)
	return rpmFromRow(r), err
}

// UpdateRpm replaces a package's content.
func (s *Service) UpdateRpm(ctx context.Context, ownerID, id int64, staged, filename string) (Rpm, error) {
	r, err := s.rpmRow(ctx, ownerID, id)
	if err != nil {
		return Rpm{}, err
	}
	p, err := readDeb(staged, filename)
	if err != nil {
		return Rpm{}, err
	}
	return s.storeRpm(ctx, &r, p, staged, filename)
}

// OpenRpm opens a package's content.
func (s *Service) OpenRpm(ctx context.Context, ownerID, id int64) (io.ReadSeekCloser, Rpm, error) {
	r, err := s.rpmRow(ctx, ownerID, id)
	if err != nil {
		return nil, Rpm{}, err
	}
	f, err := s.blobs.Open(ctx, r.Digest)
	return f, rpmFromRow(r), err
}

// DeleteRpm deletes a package.
func (s *Service) DeleteRpm(ctx context.Context, ownerID, id int64) error {
	if _, err := s.rpmRow(ctx, ownerID, id); err != nil {
		return err
	}
	return s.store.DeleteStudioRpm(ctx, id)
}
