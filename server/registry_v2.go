package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/registry"
)

// maxManifestBytes bounds a pushed manifest (the distribution spec's
// recommended minimum a registry accepts is 4 MiB).
const maxManifestBytes = 4 << 20

// oci is the OCI distribution endpoint at /v2/: go-containerregistry's
// registry handler with reehub's blob store behind it (blobs shared by
// digest with the rest of reehub), its manifests recorded in the database
// (restored at start, and loaded when an image file upload published one),
// and reehub's credentials in front (read scope pulls, write scope pushes).
type oci struct {
	s   *Server
	reg http.Handler

	mu     sync.Mutex
	loaded map[string]bool // "repo\x00ref" known to reg
}

func (s *Server) newOCI(ctx context.Context) (gin.HandlerFunc, error) {
	o := &oci{s: s, loaded: map[string]bool{},
		reg: ggcrregistry.New(ggcrregistry.WithBlobHandler(s.registry.OCIBlobs()), ggcrregistry.Logger(log.New(io.Discard, "", 0)))}
	ms, err := s.registry.Manifests(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore the OCI manifests: %w", err)
	}
	o.load(ms)
	return o.serve, nil
}

// load puts recorded manifests into the registry handler.
func (o *oci) load(ms []registry.Manifest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range ms {
		key := m.Repo + "\x00" + m.Ref
		if o.loaded[key] {
			continue
		}
		req := httptest.NewRequest(http.MethodPut, "/v2/"+m.Repo+"/manifests/"+m.Ref, bytes.NewReader(m.Body))
		req.Header.Set("Content-Type", m.MediaType)
		rec := httptest.NewRecorder()
		o.reg.ServeHTTP(rec, req)
		if rec.Code == http.StatusCreated {
			o.loaded[key] = true
		}
	}
}

// ociError writes an error in the distribution spec's format.
func ociError(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"errors": []gin.H{{"code": code, "message": msg}}})
}

// parts splits /v2/<repo>/<kind>/<ref> (kind: manifests, blobs, tags).
func parts(path string) (repo, kind, ref string) {
	p := strings.TrimPrefix(path, "/v2/")
	for _, k := range []string{"/manifests/", "/blobs/uploads", "/blobs/", "/tags/"} {
		if i := strings.LastIndex(p, k); i > 0 {
			return p[:i], strings.Trim(k, "/"), strings.TrimPrefix(p[i+len(k):], "/")
		}
	}
	return "", "", ""
}

func (o *oci) serve(c *gin.Context) {
	req := c.Request
	if headRequest(req.Context()) {
		req = req.Clone(req.Context())
		req.Method = http.MethodHead
	}
	c.Header("Docker-Distribution-API-Version", "registry/2.0")
	p, err := o.s.authenticate(req)
	if err != nil {
		c.Header("WWW-Authenticate", `Basic realm="reehub"`)
		ociError(c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	need := auth.ScopeRead
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		need = auth.ScopeWrite
	}
	if !p.Allows(need) {
		ociError(c, http.StatusForbidden, "DENIED", fmt.Sprintf("the credential lacks the scope %q", need))
		return
	}
	repo, kind, ref := parts(req.URL.Path)
	ctx := req.Context()
	switch {
	case kind == "blobs" && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		if !o.s.registry.OCIBlobs().HasBlob(ctx, ref) {
			ociError(c, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
			return
		}
	case kind == "manifests" && (req.Method == http.MethodGet || req.Method == http.MethodHead), kind == "tags":
		o.mu.Lock()
		known := o.loaded[repo+"\x00"+ref]
		o.mu.Unlock()
		if !known {
			if ms, err := o.s.registry.ManifestsOf(ctx, repo); err == nil {
				o.load(ms)
			}
		}
	case kind == "manifests" && req.Method == http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestBytes+1))
		if err != nil || len(body) > maxManifestBytes {
			ociError(c, http.StatusRequestEntityTooLarge, "SIZE_INVALID", "manifest too large or cut off")
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := &capture{ResponseWriter: c.Writer}
		o.reg.ServeHTTP(rec, req)
		if rec.status == http.StatusCreated {
			mt := req.Header.Get("Content-Type")
			refs := []string{ref}
			if d := rec.Header().Get("Docker-Content-Digest"); d != "" && d != ref {
				refs = append(refs, d)
			}
			for _, r := range refs {
				if err := o.s.registry.SaveManifest(ctx, registry.Manifest{Repo: repo, Ref: r, MediaType: mt, Body: body}); err != nil {
					o.s.log.ErrorContext(ctx, "record a pushed manifest", "repo", repo, "ref", r, "err", err)
				}
				o.mu.Lock()
				o.loaded[repo+"\x00"+r] = true
				o.mu.Unlock()
			}
		}
		return
	case kind == "manifests" && req.Method == http.MethodDelete:
		rec := &capture{ResponseWriter: c.Writer}
		o.reg.ServeHTTP(rec, req)
		if rec.status == http.StatusAccepted {
			if err := o.s.registry.DeleteManifest(ctx, repo, ref); err != nil {
				o.s.log.ErrorContext(ctx, "forget a deleted manifest", "repo", repo, "ref", ref, "err", err)
			}
			o.mu.Lock()
			delete(o.loaded, repo+"\x00"+ref)
			o.mu.Unlock()
		}
		return
	}
	o.reg.ServeHTTP(c.Writer, req)
}

// capture remembers the status a handler writes.
type capture struct {
	http.ResponseWriter
	status int
}

func (w *capture) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *capture) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
