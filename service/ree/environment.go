package ree

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/process"
)

var imageIDRe = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)

// ProcessImage makes the image a process of owner built usable as a
// workflow step's environment and returns the process's uuid and the image's
// local name (localhost/reehub/<uuid>). key is the process's uuid, or the
// image ID ("sha256:<64 hex>") a replay or SBOM rebuild of owner reported.
//
// Images are a cache (they are released once the output is packaged): a
// missing image of a replay or SBOM rebuild is loaded back from the
// image.oci.tar of its output and tagged again, after checking that the
// loaded image is the one the process reported. A recording's or SBOM
// definition's output is a defined REE, which only a replay rebuilds, so a
// released image of those is invalid, saying so. Another user's process, or
// none, is not found.
func (s *Service) ProcessImage(ctx context.Context, owner int64, key string) (string, string, error) {
	var p process.Process
	var err error
	if imageIDRe.MatchString(key) {
		p, err = s.processOfImage(ctx, owner, strings.TrimPrefix(key, "sha256:"))
	} else {
		p, err = s.procs.Get(ctx, owner, key)
	}
	if err != nil {
		return "", "", err
	}
	if p.State != process.StateProcessed {
		return "", "", fault.Invalidf("process %s is %s: its image can be a step's environment once it has processed", p.ID, p.State)
	}
	name := imageName(p.ID)
	if _, err := s.rt.InspectImage(ctx, name); err == nil {
		return p.ID, name, nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return "", "", err
	}
	switch p.Kind {
	case process.KindReplay, process.KindSbomBuild:
	default:
		return "", "", fault.Invalidf("the image of %s %s was released once its output was packaged, and that output (a defined REE) holds no image: replay it (POST /api/replay/create with its output) and name the replay's uuid, or record with keep_image=true", p.Kind, p.ID)
	}
	if err := s.loadOutputImage(ctx, owner, p); err != nil {
		return "", "", fmt.Errorf("load the image of process %s back from its output: %w", p.ID, err)
	}
	return p.ID, name, nil
}

// outputImageID reads, from the output zip of a replay (report.json) or an
// SBOM rebuild (drift.json), the ID of the image it built.
func outputImageID(zr *zip.Reader, kind process.Kind) (string, error) {
	meta := reportName
	if kind == process.KindSbomBuild {
		meta = driftName
	}
	f, err := zr.Open(meta)
	if err != nil {
		return "", fault.Invalidf("the output has no %s: %v", meta, err)
	}
	defer f.Close()
	var r struct {
		RebuiltImageID string `json:"rebuilt_image_id"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(&r); err != nil {
		return "", fault.Invalidf("%s of the output: %v", meta, err)
	}
	id := strings.TrimPrefix(r.RebuiltImageID, "sha256:")
	if !imageIDRe.MatchString(id) {
		return "", fault.Invalidf("%s of the output names no image ID", meta)
	}
	return id, nil
}

// openOutput opens the output zip of process p of owner; the caller closes
// the returned closer.
func (s *Service) openOutput(ctx context.Context, owner int64, id string) (*zip.Reader, io.Closer, error) {
	f, _, err := s.procs.OpenOutputFile(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("output of %s: %w", id, err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("output of %s: %w", id, err)
	}
	return zr, f, nil
}

// loadOutputImage loads the image.oci.tar of p's output into Podman and
// names it localhost/reehub/<uuid> again.
func (s *Service) loadOutputImage(ctx context.Context, owner int64, p process.Process) error {
	zr, closer, err := s.openOutput(ctx, owner, p.ID)
	if err != nil {
		return err
	}
	defer closer.Close()
	want, err := outputImageID(zr, p.Kind)
	if err != nil {
		return err
	}
	f, err := zr.Open(imageOCIName)
	if err != nil {
		return fault.Invalidf("the output has no %s: %v", imageOCIName, err)
	}
	defer f.Close()
	if _, err := s.rt.LoadImage(ctx, f); err != nil {
		return err
	}
	img, err := s.rt.InspectImage(ctx, want)
	if err != nil {
		return fmt.Errorf("the loaded archive did not give image %s: %w", shortID(want), err)
	}
	if err := s.rt.TagImage(ctx, img.ID, imageName(p.ID)); err != nil {
		return err
	}
	s.log.Info("loaded a released process image back from its output", "process", p.ID, "image", shortID(img.ID))
	return nil
}

// processOfImage finds the owner's processed replay or SBOM rebuild whose
// output reports the image id (64 hex digits), newest first.
func (s *Service) processOfImage(ctx context.Context, owner int64, id string) (process.Process, error) {
	processed := process.StateProcessed
	for _, kind := range []process.Kind{process.KindReplay, process.KindSbomBuild} {
		k := kind
		for offset := 0; ; offset += 100 {
			ps, _, err := s.procs.List(ctx, process.Filter{OwnerID: owner, State: &processed, Kind: &k, Limit: 100, Offset: offset})
			if err != nil {
				return process.Process{}, err
			}
			for _, p := range ps {
				if s.outputReports(ctx, owner, p, id) {
					return p, nil
				}
			}
			if len(ps) < 100 {
				break
			}
		}
	}
	return process.Process{}, fault.NotFoundf("no replay or SBOM rebuild of yours built image %s", shortID(id))
}

// outputReports reports whether p's output names image id as what it built.
func (s *Service) outputReports(ctx context.Context, owner int64, p process.Process, id string) bool {
	zr, closer, err := s.openOutput(ctx, owner, p.ID)
	if err != nil {
		return false
	}
	defer closer.Close()
	got, err := outputImageID(zr, p.Kind)
	return err == nil && got == id
}
