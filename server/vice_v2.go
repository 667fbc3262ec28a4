package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/registry"
)

// The OCI distribution endpoint at /v2/ (outside openapi.yaml: it speaks
// the distribution spec, not the reehub contract). reehub's credentials
// authenticate it (a 401 carries WWW-Authenticate: Basic, which is what
// `podman login` and `podman push --creds` answer); read scope pulls, write
// scope pushes and deletes. Errors are in the spec's format
// ({"errors":[{"code":...,"message":...}]}).

// ociRoute is a parsed /v2/ path.
type ociRoute struct {
	repo string
	kind string // "", "blobs", "uploads", "manifests", "tags", "referrers"
	ref  string
}

func parseOCIPath(p string) (ociRoute, bool) {
	rest := strings.TrimPrefix(strings.TrimPrefix(p, "/v2"), "/")
	if rest == "" {
		return ociRoute{}, true
	}
	for _, k := range []struct{ sep, kind string }{
		{"/blobs/uploads/", "uploads"}, {"/blobs/uploads", "uploads"}, {"/blobs/", "blobs"},
		{"/manifests/", "manifests"}, {"/tags/list", "tags"}, {"/referrers/", "referrers"},
	} {
		if i := strings.LastIndex(rest, k.sep); i > 0 {
			ref := rest[i+len(k.sep):]
			if (k.kind == "tags" && ref != "") || (k.kind == "uploads" && strings.Contains(ref, "/")) {
				continue
			}
			return ociRoute{repo: rest[:i], kind: k.kind, ref: ref}, true
		}
	}
	return ociRoute{}, false
}

func (s *Server) ociHandler(c *gin.Context) {
	req := c.Request
	if headRequest(req.Context()) {
		req = req.Clone(req.Context())
		req.Method = http.MethodHead
	}
	c.Header("Docker-Distribution-API-Version", "registry/2.0")
	p, err := s.authenticate(req)
	if err != nil {
		c.Header("WWW-Authenticate", `Basic realm="reehub"`)
		s.writeOCI(c, fault.New(fault.ErrUnauthenticated, "authentication required"))
		return
	}
	need := auth.ScopeRead
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		need = auth.ScopeWrite
	}
	if !p.Allows(need) {
		s.writeOCI(c, fault.New(fault.ErrForbidden, fmt.Sprintf("the credential lacks the scope %q", need)))
		return
	}
	rt, ok := parseOCIPath(req.URL.Path)
	if !ok {
		s.writeOCI(c, fault.NotFoundf("no such endpoint: %s", req.URL.Path))
		return
	}
	if rt.kind == "" {
		c.Status(http.StatusOK)
		return
	}
	if err := registry.CheckRepo(rt.repo); err != nil {
		s.writeOCI(c, err)
		return
	}
	if err := s.ociServe(c, req, rt); err != nil {
		s.writeOCI(c, err)
	}
}

func (s *Server) ociServe(c *gin.Context, req *http.Request, rt ociRoute) error {
	ctx := req.Context()
	reg := s.registry
	base := "/v2/" + rt.repo
	switch rt.kind + " " + req.Method {
	case "blobs GET", "blobs HEAD":
		f, info, err := reg.OpenBlob(ctx, rt.repo, rt.ref)
		if err != nil {
			return err
		}
		defer f.Close()
		h := c.Writer.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Docker-Content-Digest", info.Digest)
		h.Set("ETag", quoteETag(info.Digest))
		http.ServeContent(c.Writer, req, "", fileTime(f), f)
		return nil
	case "blobs DELETE":
		if err := reg.DeleteBlob(ctx, rt.repo, rt.ref); err != nil {
			return err
		}
		c.Status(http.StatusAccepted)
		return nil
	case "uploads POST":
		q := req.URL.Query()
		if mount := q.Get("mount"); mount != "" {
			ok, err := reg.MountBlob(ctx, rt.repo, mount, q.Get("from"))
			if err != nil {
				return err
			}
			if ok {
				c.Header("Location", base+"/blobs/"+mount)
				c.Header("Docker-Content-Digest", mount)
				c.Status(http.StatusCreated)
				return nil
			}
		}
		if d := q.Get("digest"); d != "" {
			info, err := reg.PutBlob(ctx, rt.repo, d, s.ociBody(c, req))
			if err != nil {
				return err
			}
			c.Header("Location", base+"/blobs/"+info.Digest)
			c.Header("Docker-Content-Digest", info.Digest)
			c.Status(http.StatusCreated)
			return nil
		}
		up, err := reg.StartUpload(ctx, rt.repo)
		if err != nil {
			return err
		}
		uploadHeaders(c, base, up)
		c.Status(http.StatusAccepted)
		return nil
	case "uploads GET", "uploads HEAD":
		up, err := reg.UploadStatus(ctx, rt.repo, rt.ref)
		if err != nil {
			return err
		}
		uploadHeaders(c, base, up)
		c.Status(http.StatusNoContent)
		return nil
	case "uploads PATCH":
		start, err := chunkStart(req)
		if err != nil {
			return err
		}
		up, err := reg.AppendUpload(ctx, rt.repo, rt.ref, start, s.ociBody(c, req))
		if err != nil {
			if up.ID != "" {
				uploadHeaders(c, base, up)
			}
			return err
		}
		uploadHeaders(c, base, up)
		c.Status(http.StatusAccepted)
		return nil
	case "uploads PUT":
		start, err := chunkStart(req)
		if err != nil {
			return err
		}
		if start >= 0 {
			if _, err := reg.AppendUpload(ctx, rt.repo, rt.ref, start, s.ociBody(c, req)); err != nil {
				return err
			}
			req.Body = http.NoBody
		}
		info, err := reg.FinishUpload(ctx, rt.repo, rt.ref, req.URL.Query().Get("digest"), s.ociBody(c, req))
		if err != nil {
			return err
		}
		c.Header("Location", base+"/blobs/"+info.Digest)
		c.Header("Docker-Content-Digest", info.Digest)
		c.Status(http.StatusCreated)
		return nil
	case "uploads DELETE":
		if err := reg.CancelUpload(ctx, rt.repo, rt.ref); err != nil {
			return err
		}
		c.Status(http.StatusNoContent)
		return nil
	case "manifests GET", "manifests HEAD":
		m, err := reg.GetManifest(ctx, rt.repo, rt.ref)
		if err != nil {
			return err
		}
		h := c.Writer.Header()
		h.Set("Content-Type", m.MediaType)
		h.Set("Docker-Content-Digest", m.Digest)
		h.Set("ETag", quoteETag(m.Digest))
		h.Set("Content-Length", strconv.Itoa(len(m.Body)))
		c.Status(http.StatusOK)
		if req.Method == http.MethodGet {
			_, err = c.Writer.Write(m.Body)
			return err
		}
		return nil
	case "manifests PUT":
		body, err := io.ReadAll(io.LimitReader(req.Body, registry.ManifestLimit()+1))
		if err != nil {
			return uploadError(err)
		}
		m, err := reg.PutManifest(ctx, rt.repo, rt.ref, mediaTypeOf(req.Header.Get("Content-Type")), body)
		if err != nil {
			return err
		}
		c.Header("Location", base+"/manifests/"+m.Digest)
		c.Header("Docker-Content-Digest", m.Digest)
		if m.Subject != "" {
			c.Header("OCI-Subject", m.Subject)
		}
		c.Status(http.StatusCreated)
		return nil
	case "manifests DELETE":
		if err := reg.DeleteManifest(ctx, rt.repo, rt.ref); err != nil {
			return err
		}
		c.Status(http.StatusAccepted)
		return nil
	case "tags GET", "tags HEAD":
		q := req.URL.Query()
		n := -1
		if v := q.Get("n"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				return fault.Invalidf("n: not a count")
			}
		}
		var tags []string
		if n != 0 {
			var err error
			if tags, err = reg.Tags(ctx, rt.repo, q.Get("last"), n); err != nil {
				return err
			}
		}
		if tags == nil {
			tags = []string{}
		}
		if n > 0 && len(tags) == n {
			c.Header("Link", fmt.Sprintf(`<%s/tags/list?n=%d&last=%s>; rel="next"`, base, n, url.QueryEscape(tags[len(tags)-1])))
		}
		c.JSON(http.StatusOK, gin.H{"name": rt.repo, "tags": tags})
		return nil
	case "referrers GET", "referrers HEAD":
		at := req.URL.Query().Get("artifactType")
		refs, err := reg.Referrers(ctx, rt.repo, rt.ref, at)
		if err != nil {
			return err
		}
		ms := make([]map[string]any, 0, len(refs))
		for _, r := range refs {
			d := map[string]any{"mediaType": r.MediaType, "digest": r.Digest, "size": r.Size}
			if r.ArtifactType != "" {
				d["artifactType"] = r.ArtifactType
			}
			if len(r.Annotations) > 0 {
				d["annotations"] = r.Annotations
			}
			ms = append(ms, d)
		}
		if at != "" {
			c.Header("OCI-Filters-Applied", "artifactType")
		}
		b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ms})
		if err != nil {
			return err
		}
		c.Data(http.StatusOK, "application/vnd.oci.image.index.v1+json", b)
		return nil
	}
	c.Header("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE")
	return fault.New(errOCIMethod, fmt.Sprintf("method %s is not allowed on %s", req.Method, req.URL.Path))
}

// ociBody bounds a blob body by the upload limit.
func (s *Server) ociBody(c *gin.Context, req *http.Request) io.Reader {
	return http.MaxBytesReader(c.Writer, req.Body, s.cfg.MaxUploadBytes)
}

// chunkStart reads the offset of a chunk's Content-Range ("start-end"), or
// -1 without one.
func chunkStart(req *http.Request) (int64, error) {
	cr := req.Header.Get("Content-Range")
	if cr == "" {
		return -1, nil
	}
	a, _, ok := strings.Cut(strings.TrimPrefix(cr, "bytes "), "-")
	n, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fault.Invalidf("malformed Content-Range %q", cr)
	}
	return n, nil
}

func uploadHeaders(c *gin.Context, base string, up registry.Upload) {
	c.Header("Location", base+"/blobs/uploads/"+up.ID)
	c.Header("Docker-Upload-UUID", up.ID)
	end := up.Size - 1
	if end < 0 {
		end = 0
	}
	c.Header("Range", fmt.Sprintf("0-%d", end))
}

func mediaTypeOf(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// fileTime is a blob reader's modification time (for Last-Modified), zero
// when unknown: a file's, or a remote object's.
func fileTime(r io.Reader) time.Time {
	switch f := r.(type) {
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := f.Stat(); err == nil {
			return fi.ModTime()
		}
	case interface{ ModTime() time.Time }:
		return f.ModTime()
	}
	return time.Time{}
}
