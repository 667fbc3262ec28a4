package fossology

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/fossology/report"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// The kinds of FOSSology job (fossology_jobs.kind).
const (
	kindUnpack = "unpack"
	kindScan   = "scan"
	kindReport = "report"
	kindBulk   = "bulk"
)

// UnpackArgs are the River args of an unpack job (ununpack and adj2nest);
// the upload is the job's fossology_jobs row.
type UnpackArgs struct{}

// Kind names the kind.
func (UnpackArgs) Kind() string { return "fossology_unpack" }

// ScanArgs are the River args of a scan job: the plan's steps in order.
type ScanArgs struct {
	Steps []string `json:"steps"`
	Reuse *Reuse   `json:"reuse,omitempty"`
	// BulkID is the bulk rule a bulk job applies.
	BulkID int64 `json:"bulk_id,omitempty"`
}

// Kind names the kind.
func (ScanArgs) Kind() string { return "fossology_scan" }

// ReportArgs are the River args of a report job; the report is the one
// whose job it is.
type ReportArgs struct{}

// Kind names the kind.
func (ReportArgs) Kind() string { return "fossology_report" }

// stepMonkBulk applies one bulk rule (FOSSology's monkbulk).
const stepMonkBulk = "monkbulk"

func (s *Service) register() error {
	if err := job.Register(s.engine, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans, Resumable: true}, worker[UnpackArgs]{s.unpackSteps}); err != nil {
		return err
	}
	if err := job.Register(s.engine, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans, Resumable: true}, worker[ScanArgs]{s.scanSteps}); err != nil {
		return err
	}
	return job.Register(s.engine, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans}, worker[ReportArgs]{s.reportSteps})
}

// worker adapts a steps function to job.Worker; FOSSology jobs start no
// runtime resources, so there is nothing to clean up.
type worker[A any] struct {
	steps func(job.Job, A) []job.StepDef
}

func (w worker[A]) Steps(j job.Job, a A) []job.StepDef    { return w.steps(j, a) }
func (w worker[A]) Cleanup(context.Context, string) error { return nil }

// link returns the FOSSology row of engine job j and its upload.
func (s *Service) link(ctx context.Context, j job.Job) (store.FossologyJob, store.FossologyUploadRow, error) {
	fj, err := s.store.FossologyJobByEngineID(ctx, j.ID)
	if err != nil {
		return fj, store.FossologyUploadRow{}, err
	}
	u, err := s.store.FossologyUploadByID(ctx, fj.UploadID)
	return fj, u, err
}

// treeFile is where the unpacked tree's description is kept between
// ununpack and adj2nest.
func (s *Service) treeFile(id int64) string { return s.treeDir(id) + ".json" }

func (s *Service) unpackSteps(j job.Job, _ UnpackArgs) []job.StepDef {
	return []job.StepDef{
		{Name: "fetch", Run: func(ctx context.Context, w *job.Work) error {
			_, u, err := s.link(ctx, j)
			if err != nil {
				return err
			}
			if u.BlobDigest != "" {
				fmt.Fprintf(w.Log, "%s upload: %s (%d bytes)\n", u.UploadType, u.Name, u.Size)
				return nil
			}
			return s.fetch(ctx, w, u)
		}},
		{Name: "ununpack", Run: func(ctx context.Context, w *job.Work) error {
			_, u, err := s.link(ctx, j)
			if err != nil {
				return err
			}
			src, err := s.blobs.LocalPath(ctx, u.BlobDigest)
			if err != nil {
				return err
			}
			dest := s.treeDir(u.ID)
			if err := os.RemoveAll(dest); err != nil {
				return fmt.Errorf("clear the tree of a previous attempt: %w", err)
			}
			in := unpack.Source{Path: src, Name: u.Name}
			if u.SHA256 != "" {
				// Hashed while it was stored: the archive is read once more, to unpack it.
				in.Hash = &unpack.Hash{SHA1: u.SHA1, MD5: u.MD5, SHA256: u.SHA256, Size: u.Size}
			}
			tree, err := unpack.Unpack(ctx, in, dest, s.limits())
			if err != nil {
				_ = os.RemoveAll(dest) // nothing is left of a refused archive
				return err
			}
			if u.IgnoreScm {
				tree.Items = slices.DeleteFunc(tree.Items, func(it unpack.Item) bool { return scmPath(it.Path) })
			}
			b, err := json.Marshal(tree.Items)
			if err != nil {
				return err
			}
			fmt.Fprintf(w.Log, "unpacked %d items\n", len(tree.Items))
			return os.WriteFile(s.treeFile(u.ID), b, 0o640)
		}},
		{Name: "adj2nest", Run: func(ctx context.Context, w *job.Work) error {
			_, u, err := s.link(ctx, j)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(s.treeFile(u.ID))
			if err != nil {
				return fmt.Errorf("read the unpacked tree: %w", err)
			}
			var items []unpack.Item
			if err := json.Unmarshal(b, &items); err != nil {
				return fmt.Errorf("read the unpacked tree: %w", err)
			}
			rows := make([]store.FossologyItem, len(items))
			for i, it := range items {
				rows[i] = store.FossologyItem{UploadID: u.ID, ItemID: int64(i + 1), Path: it.Path, Kind: string(it.Kind),
					SHA1: it.Hash.SHA1, MD5: it.Hash.MD5, SHA256: it.Hash.SHA256, Size: it.Hash.Size, MimeType: it.MimeType,
					Format: it.Format, Archive: it.Archive, LinkTarget: it.LinkTarget}
				if it.Package != nil {
					pb, err := json.Marshal(it.Package)
					if err != nil {
						return fmt.Errorf("package of %s: %w", it.Path, err)
					}
					rows[i].PkgInfo = string(pb)
				}
			}
			if err := s.store.ReplaceFossologyItems(ctx, u.ID, rows); err != nil {
				return err
			}
			now := s.store.Now()
			if err := s.store.UpdateFossologyUpload(ctx, u.ID, map[string]any{"state": uploadUnpacked, "unpacked_at": now}); err != nil {
				return err
			}
			_ = os.Remove(s.treeFile(u.ID))
			fmt.Fprintf(w.Log, "%d items in the upload tree\n", len(rows))
			return nil
		}},
	}
}

// scmPath reports whether a tree path is in an SCM directory.
func scmPath(p string) bool {
	for _, part := range strings.Split(p, "/") {
		switch part {
		case ".git", ".svn", ".hg", ".bzr", "CVS":
			return true
		}
	}
	return false
}

// fetch gets a url, vcs or server upload into the blob store.
func (s *Service) fetch(ctx context.Context, w *job.Work, u store.FossologyUploadRow) error {
	var src source
	if err := json.Unmarshal([]byte(u.Source), &src); err != nil {
		return fmt.Errorf("upload %d has no source: %w", u.ID, err)
	}
	dest := filepath.Join(w.Dir, "download")
	_ = os.Remove(dest)
	var (
		res fetch.Result
		err error
	)
	switch u.UploadType {
	case UploadURL:
		fmt.Fprintf(w.Log, "fetching %s\n", src.URL)
		res, err = s.cfg.Fetch.URL(ctx, src.URL, dest, fetch.Options{Name: u.Name, Accept: src.Accept, Reject: src.Reject})
	case UploadVCS:
		user, pass := s.creds.take(u.ID)
		fmt.Fprintf(w.Log, "cloning %s (branch %q)\n", src.VCSURL, src.VCSBranch)
		res, err = s.cfg.Fetch.Git(ctx, fetch.VCS{Type: src.VCSType, URL: src.VCSURL, Branch: src.VCSBranch, Name: u.Name, Username: user, Password: pass}, dest)
	case UploadServer:
		fmt.Fprintf(w.Log, "reading %s\n", src.ServerPath)
		res, err = s.serverFile(ctx, src.ServerPath, dest)
	default:
		return fmt.Errorf("upload %d of type %s has no file", u.ID, u.UploadType)
	}
	if err != nil {
		return err
	}
	f, err := os.Open(res.Path)
	if err != nil {
		return err
	}
	stored, err := s.StoreFile(ctx, f)
	f.Close()
	_ = os.Remove(res.Path)
	if err != nil {
		return err
	}
	return s.store.UpdateFossologyUpload(ctx, u.ID, map[string]any{"blob_digest": stored.Digest, "sha1": stored.Hash.SHA1,
		"md5": stored.Hash.MD5, "sha256": stored.Hash.SHA256, "size": stored.Hash.Size})
}

// serverFile copies a server file, or a tar of a server directory, to dest.
func (s *Service) serverFile(ctx context.Context, p, dest string) (fetch.Result, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return fetch.Result{}, fault.Invalidf("path %s cannot be read", p)
	}
	out, err := os.Create(dest)
	if err != nil {
		return fetch.Result{}, err
	}
	defer out.Close()
	if fi.IsDir() {
		err = fetch.TarDir(ctx, p, out)
	} else {
		var in *os.File
		if in, err = os.Open(p); err == nil {
			_, err = io.Copy(out, in)
			in.Close()
		}
	}
	return fetch.Result{Path: dest, Name: filepath.Base(p)}, err
}

// tree returns the unpacked tree of an upload.
func (s *Service) tree(ctx context.Context, u store.FossologyUploadRow) (*unpack.Tree, error) {
	rows, err := s.store.FossologyItems(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	t := &unpack.Tree{Name: u.Name, Root: s.treeDir(u.ID), Items: make([]unpack.Item, len(rows))}
	for i, r := range rows {
		t.Items[i] = unpack.Item{Path: r.Path, Kind: unpack.Kind(r.Kind), Hash: unpack.Hash{SHA1: r.SHA1, MD5: r.MD5, SHA256: r.SHA256, Size: r.Size},
			MimeType: r.MimeType, Format: r.Format, Archive: r.Archive, LinkTarget: r.LinkTarget}
		if r.PkgInfo != "" {
			var p unpack.Package
			if err := json.Unmarshal([]byte(r.PkgInfo), &p); err != nil {
				return nil, fmt.Errorf("package of %s: %w", r.Path, err)
			}
			t.Items[i].Package = &p
		}
	}
	return t, nil
}

// findings returns every finding of an upload but those of the agents in
// except.
func (s *Service) findings(ctx context.Context, uploadID int64, except ...string) ([]agent.Finding, error) {
	rows, err := s.store.FossologyFindings(ctx, uploadID, except...)
	if err != nil {
		return nil, err
	}
	out := make([]agent.Finding, len(rows))
	for i, r := range rows {
		out[i] = agent.Finding{Agent: agent.Agent(r.Agent), Path: r.Path, SHA1: r.SHA1, Type: agent.Type(r.Type), Value: r.Value,
			Expression: r.Expression, Rule: r.Rule, StartLine: r.StartLine, EndLine: r.EndLine}
	}
	return out, nil
}

// decisions returns the decisions of an upload by path.
func (s *Service) decisions(ctx context.Context, uploadID int64) (map[string]clearing.Decision, error) {
	rows, err := s.store.FossologyDecisions(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]clearing.Decision, len(rows))
	for _, r := range rows {
		out[r.Path] = clearing.Decision{Path: r.Path, SHA1: r.SHA1, Status: clearing.Status(r.Status), Licenses: strings.Fields(r.Licenses),
			Source: clearing.Source(r.Source), Comment: r.Comment, UserID: r.UserID, Time: r.DecidedAt}
	}
	return out, nil
}

// putDecisions stores decisions of an upload.
func (s *Service) putDecisions(ctx context.Context, uploadID int64, ds []clearing.Decision) error {
	rows := make([]store.FossologyDecision, len(ds))
	for i, d := range ds {
		rows[i] = decisionRow(uploadID, d)
	}
	return s.store.PutFossologyDecisions(ctx, rows)
}

// decisionRow is how a decision on a file of an upload is stored.
func decisionRow(uploadID int64, d clearing.Decision) store.FossologyDecision {
	return store.FossologyDecision{UploadID: uploadID, Path: d.Path, SHA1: d.SHA1, Status: string(d.Status),
		Licenses: strings.Join(d.Licenses, " "), Source: string(d.Source), Comment: d.Comment, UserID: d.UserID, DecidedAt: d.Time}
}

// bulks returns the bulk rules of an upload.
func (s *Service) bulks(ctx context.Context, uploadID int64) ([]clearing.Bulk, error) {
	rows, err := s.store.FossologyBulks(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	out := make([]clearing.Bulk, len(rows))
	for i, r := range rows {
		out[i] = clearing.Bulk{Text: r.Text, Licenses: strings.Fields(r.Licenses), Remove: strings.Fields(r.Removes), UserID: r.UserID}
	}
	return out, nil
}

func (s *Service) readText(tree *unpack.Tree) func(unpack.Item) ([]byte, error) {
	return func(it unpack.Item) ([]byte, error) { return agent.ReadText(tree.FilePath(it), 1<<20) }
}

// decidingCache holds what one job's pass hands its deciders: the
// findings, for those that run after it, and how many decisions those that
// ran during it made. One job at a time, so that its memory is bounded by
// one upload's findings.
type decidingCache struct {
	mu       sync.Mutex
	job      string
	findings []agent.Finding
	decided  map[Step]int
}

func (c *decidingCache) get(jobID string) ([]agent.Finding, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.findings, c.job == jobID && c.job != "" && c.findings != nil
}

func (c *decidingCache) put(jobID string, fs []agent.Finding, decided map[Step]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.job, c.findings, c.decided = jobID, fs, decided
}

// made returns how many decisions step made during the pass of a job, and
// false when this process did not run that pass (it ran before a restart).
func (c *decidingCache) made(jobID string, step Step) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.decided[step]
	return n, ok && c.job == jobID
}

func (c *decidingCache) drop(jobID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.job == jobID {
		c.job, c.findings, c.decided = "", nil, nil
	}
}

// passDecider is a decider that a scan job's pass runs on each file as it
// is scanned (see passDeciders).
type passDecider struct {
	step   Step
	decide clearing.FileDecider
}

// passDeciders returns the deciders among steps that the pass over the
// files of agents can run file by file: the leading run of nomos_monk and
// ojo_decider steps whose agents (nomos and monk; ojo, nomos and monk) are
// all in the pass, so that each file's findings are all there. They only
// conclude files without a decision, so deciding during the pass is what
// deciding after it would be. The steps after the first that cannot (reuse,
// bulk_reused and new_scanner work on earlier decisions or read the files)
// run after the pass, in order.
func passDeciders(steps []string, agents []agent.Agent) []passDecider {
	var out []passDecider
	for _, st := range steps {
		if _, err := agent.Parse(st); err == nil {
			continue
		}
		d := passDecider{step: Step(st)}
		var needs []agent.Agent
		switch d.step {
		case StepNomosMonk:
			d.decide, needs = clearing.NomosMonkFile, []agent.Agent{agent.Nomos, agent.Monk}
		case StepOjoDecider:
			d.decide, needs = clearing.OjoFile, []agent.Agent{agent.Ojo, agent.Nomos, agent.Monk}
		default:
			return out
		}
		for _, ag := range needs {
			if !slices.Contains(agents, ag) {
				return out
			}
		}
		out = append(out, d)
	}
	return out
}

// findingsBatch is how many findings the writer of a pass stores at once.
const findingsBatch = 2000

// progressEvery is how often a running agent records its progress.
const progressEvery = 500 * time.Millisecond

func (s *Service) scanSteps(j job.Job, a ScanArgs) []job.StepDef {
	// Each agent is a step. The first agent's step runs every agent of the
	// job in one pass over the files (each file is read once, and nomos,
	// monk and ojo share one license detection): the later agents' steps
	// find their findings stored by it. A pass that is interrupted runs
	// again whole, replacing what it stored.
	var planned []agent.Agent
	for _, st := range a.Steps {
		if ag, err := agent.Parse(st); err == nil {
			planned = append(planned, ag)
		}
	}
	var passes [][]agent.Agent
	passOf := map[agent.Agent]int{}
	for i, ag := range planned {
		if i == 0 {
			passOf[ag] = 0
			passes = append(passes, planned)
			continue
		}
		passOf[ag] = -1 // stored by pass 0
	}
	deciders := passDeciders(a.Steps, planned)
	inPass := func(step string) bool {
		return slices.ContainsFunc(deciders, func(d passDecider) bool { return string(d.step) == step })
	}
	after := len(a.Steps) - len(planned) - len(deciders) // steps that read the pass's findings after it
	defs := make([]job.StepDef, 0, len(a.Steps))
	for i, st := range a.Steps {
		name := st
		pass, isAgent := passOf[agent.Agent(name)]
		last := i == len(a.Steps)-1
		switch {
		case isAgent && pass >= 0:
			defs = append(defs, job.StepDef{Name: name, Run: func(ctx context.Context, w *job.Work) error {
				return s.runAgents(ctx, w, j, passes[pass], pass, len(passes), deciders, after > 0)
			}})
		case isAgent:
			by := passes[-1-pass][0]
			defs = append(defs, job.StepDef{Name: name, Run: func(_ context.Context, w *job.Work) error {
				fmt.Fprintf(w.Log, "%s: its findings were stored by the %s step (one pass over the files for %v)\n", name, by, passes[-1-pass])
				return nil
			}})
		case inPass(name):
			by := passes[0][0]
			defs = append(defs, job.StepDef{Name: name, Run: func(_ context.Context, w *job.Work) error {
				if last {
					defer s.deciding.drop(j.ID)
				}
				if n, ok := s.deciding.made(j.ID, Step(name)); ok {
					fmt.Fprintf(w.Log, "%s: %d decisions, made file by file during the %s step's pass\n", name, n, by)
				} else {
					fmt.Fprintf(w.Log, "%s: its decisions were made file by file during the %s step's pass\n", name, by)
				}
				return nil
			}})
		default:
			defs = append(defs, job.StepDef{Name: name, Run: func(ctx context.Context, w *job.Work) error {
				if last {
					defer s.deciding.drop(j.ID)
				}
				return s.runDecider(ctx, w, j, name, a)
			}})
		}
	}
	return defs
}

// runAgents runs agents in one pass (the index-th of n passes) over an
// upload and stores their findings, replacing those agents' earlier ones.
// The deciders run on each file as it is scanned, and their decisions are
// stored with the findings. When deciders follow the pass (keep), it hands
// them its findings, so that they read back from the database only those
// of other agents.
func (s *Service) runAgents(ctx context.Context, w *job.Work, j job.Job, agents []agent.Agent, index, n int, deciders []passDecider, keep bool) error {
	fj, u, err := s.link(ctx, j)
	if err != nil {
		return err
	}
	tree, err := s.tree(ctx, u)
	if err != nil {
		return err
	}
	files := len(tree.Files())
	start := map[string]any{"files_total": files * n, "files_done": files * index}
	if index == 0 || fj.StepStartedAt == nil {
		start["step_started_at"] = s.store.Now()
	}
	if err := s.store.UpdateFossologyJob(ctx, fj.ID, start); err != nil {
		return err
	}
	names := make([]string, len(agents))
	for i, ag := range agents {
		names[i] = string(ag)
		if err := s.store.DeleteFossologyFindings(ctx, u.ID, string(ag)); err != nil {
			return err
		}
	}
	s.deciding.drop(j.ID)
	var existing map[string]clearing.Decision
	if len(deciders) > 0 {
		// Decisions made before (by a user, or by an attempt of this pass
		// that was interrupted) stand.
		if existing, err = s.decisions(ctx, u.ID); err != nil {
			return err
		}
	}
	// Every database write of the pass (findings, decisions, the first
	// finding's time, progress) is made by a writer goroutine, so that the
	// pass over the files never waits for the database (on SQLite, one
	// connection writes).
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type write struct {
		findings  []store.FossologyFinding
		decisions []store.FossologyDecision
		first     *time.Time // the first license finding's time, once
		done      int        // files done, for progress (0: none)
	}
	writes := make(chan write, 8)
	werr := make(chan error, 1)
	go func() {
		var err error
		for wr := range writes {
			if err != nil {
				continue
			}
			err = s.store.AddFossologyFindings(wctx, wr.findings)
			if err == nil {
				err = s.store.AddFossologyDecisions(wctx, wr.decisions)
			}
			if err == nil && wr.first != nil {
				err = s.store.UpdateFossologyJob(wctx, fj.ID, map[string]any{"first_finding_at": *wr.first})
			}
			if err == nil && wr.done > 0 {
				overall := files*index + wr.done
				if err = s.store.UpdateFossologyJob(wctx, fj.ID, map[string]any{"files_done": overall}); err == nil {
					_ = w.Progress(wctx, 100*overall/max(1, files*n), fmt.Sprintf("%v: %d of %d files", agents, wr.done, files))
				}
			}
			if err != nil {
				cancel() // stop the pass
			}
		}
		werr <- err
	}()
	var kept []agent.Finding
	buf := make([]store.FossologyFinding, 0, findingsBatch)
	var decided []store.FossologyDecision
	made := make(map[Step]int, len(deciders))
	for _, d := range deciders {
		made[d.step] = 0 // a decider that concludes nothing made 0 decisions
	}
	now := s.store.Now()
	firstSeen := fj.FirstFindingAt != nil
	last, found := time.Now(), 0
	err = s.runner.Run(wctx, tree, agents, func(path string, done int, fs []agent.Finding) error {
		var wr write
		for _, f := range fs {
			if f.Type == agent.TypeMimetype {
				// The mimetype agent's result is the item's mime type,
				// stored with the tree by adj2nest; storing it again, or
				// keeping it for deciders (which read licenses), would
				// only cost.
				continue
			}
			if keep {
				kept = append(kept, f)
			}
			buf = append(buf, store.FossologyFinding{UploadID: u.ID, Agent: string(f.Agent), Path: f.Path, SHA1: f.SHA1, Type: string(f.Type),
				Value: f.Value, Expression: f.Expression, Rule: f.Rule, StartLine: f.StartLine, EndLine: f.EndLine})
			if !firstSeen && f.Type == agent.TypeLicense {
				firstSeen = true
				at := s.store.Now()
				wr.first = &at
			}
		}
		for _, d := range deciders {
			if len(fs) == 0 {
				break
			}
			var prev *clearing.Decision
			if e, ok := existing[path]; ok {
				prev = &e
			}
			if dec, ok := d.decide(fs, prev, now); ok {
				existing[path] = dec
				decided = append(decided, decisionRow(u.ID, dec))
				made[d.step]++
			}
		}
		found += len(fs)
		if time.Since(last) >= progressEvery {
			last = time.Now()
			wr.done = done
		}
		if len(buf) >= findingsBatch || wr.first != nil || wr.done > 0 {
			wr.findings, buf = buf, make([]store.FossologyFinding, 0, findingsBatch)
			wr.decisions, decided = decided, nil
			select {
			case writes <- wr:
			case <-wctx.Done():
				return wctx.Err()
			}
		}
		return nil
	})
	if err == nil && len(buf)+len(decided) > 0 {
		writes <- write{findings: buf, decisions: decided}
	}
	close(writes)
	if werr := <-werr; werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w.Log, "%v: %d findings in %d files\n", agents, found, files)
	for _, d := range deciders {
		fmt.Fprintf(w.Log, "%s: %d decisions\n", d.step, made[d.step])
	}
	if err := s.store.UpdateFossologyJob(ctx, fj.ID, map[string]any{"files_done": files * (index + 1)}); err != nil {
		return err
	}
	var handed []agent.Finding
	if keep {
		others, err := s.findings(ctx, u.ID, names...)
		if err != nil {
			return err
		}
		handed = append(others, kept...)
	}
	s.deciding.put(j.ID, handed, made)
	return nil
}

// runDecider runs a decider, reuse or a bulk rule of a scan job.
func (s *Service) runDecider(ctx context.Context, w *job.Work, j job.Job, step string, a ScanArgs) error {
	_, u, err := s.link(ctx, j)
	if err != nil {
		return err
	}
	// The deciders of a job run one after the other on the same findings
	// (they write decisions only): the first loads them, the others reuse them.
	findings, ok := s.deciding.get(j.ID)
	if !ok {
		if findings, err = s.findings(ctx, u.ID); err != nil {
			return err
		}
		s.deciding.put(j.ID, findings, nil)
	}
	existing, err := s.decisions(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.store.Now()
	var out []clearing.Decision
	switch Step(step) {
	case StepNomosMonk:
		out = clearing.NomosMonk(findings, existing, now)
	case StepOjoDecider:
		out = clearing.OjoDecider(findings, existing, now)
	case StepNewScanner:
		out = clearing.NewScanner(findings, existing, now)
	case StepReuse, StepBulkReused:
		if a.Reuse == nil {
			return fmt.Errorf("%s without a reuse object", step)
		}
		earlier, err := s.store.FossologyUploadByID(ctx, a.Reuse.Upload)
		if err != nil {
			return err
		}
		tree, err := s.tree(ctx, u)
		if err != nil {
			return err
		}
		if Step(step) == StepBulkReused {
			bulks, err := s.bulks(ctx, earlier.ID)
			if err != nil {
				return err
			}
			if out, err = clearing.ApplyBulk(tree, bulks, existing, findings, clearing.SourceBulkReused, s.readText(tree), now); err != nil {
				return err
			}
			break
		}
		prev, err := s.decisions(ctx, earlier.ID)
		if err != nil {
			return err
		}
		list := make([]clearing.Decision, 0, len(prev))
		for _, d := range prev {
			list = append(list, d)
		}
		out = clearing.Reuse(tree, list, existing, clearing.ReuseOptions{Main: a.Reuse.Main, Enhanced: a.Reuse.Enhanced}, now)
		if a.Reuse.Main && earlier.MainLicense != "" && u.MainLicense == "" {
			if err := s.store.UpdateFossologyUpload(ctx, u.ID, map[string]any{"main_license": earlier.MainLicense}); err != nil {
				return err
			}
		}
	case stepMonkBulk:
		rows, err := s.store.FossologyBulks(ctx, u.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rows, func(b store.FossologyBulk) bool { return b.ID == a.BulkID })
		if i < 0 {
			return fmt.Errorf("bulk %d of upload %d is gone", a.BulkID, u.ID)
		}
		tree, err := s.tree(ctx, u)
		if err != nil {
			return err
		}
		b := clearing.Bulk{Text: rows[i].Text, Licenses: strings.Fields(rows[i].Licenses), Remove: strings.Fields(rows[i].Removes), UserID: rows[i].UserID}
		if out, err = clearing.ApplyBulk(tree, []clearing.Bulk{b}, existing, findings, clearing.SourceBulk, s.readText(tree), now); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown step %s", step)
	}
	fmt.Fprintf(w.Log, "%s: %d decisions\n", step, len(out))
	return s.putDecisions(ctx, u.ID, out)
}

func (s *Service) reportSteps(j job.Job, _ ReportArgs) []job.StepDef {
	return []job.StepDef{{Name: "report", Run: func(ctx context.Context, w *job.Work) error {
		r, err := s.store.FossologyReportByJobID(ctx, j.ID)
		if err != nil {
			return err
		}
		u, err := s.store.FossologyUploadByID(ctx, r.UploadID)
		if err != nil {
			return err
		}
		in, err := s.reportInput(ctx, u)
		if err != nil {
			return err
		}
		f, err := os.CreateTemp(w.Dir, "report-*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		format := report.Format(r.Format)
		werr := report.Write(f, format, in)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
		rf, err := os.Open(f.Name())
		if err != nil {
			return err
		}
		defer rf.Close()
		ref, err := s.blobs.Put(ctx, rf)
		if err != nil {
			return err
		}
		fmt.Fprintf(w.Log, "%s report of upload %d: %d bytes\n", format, u.ID, ref.Size)
		return s.store.UpdateFossologyReport(ctx, r.ID, map[string]any{"digest": ref.Digest, "file_name": format.FileName(u.Name, in.Created)})
	}}}
}

// reportInput gathers what a report of upload u is made of.
func (s *Service) reportInput(ctx context.Context, u store.FossologyUploadRow) (report.Input, error) {
	tree, err := s.tree(ctx, u)
	if err != nil {
		return report.Input{}, err
	}
	findings, err := s.findings(ctx, u.ID)
	if err != nil {
		return report.Input{}, err
	}
	ds, err := s.decisions(ctx, u.ID)
	if err != nil {
		return report.Input{}, err
	}
	return report.Input{UploadID: u.ID, Tree: tree, Findings: findings, Decisions: ds, MainLicense: u.MainLicense,
		Created: s.store.Now(), Namespace: "https://reehub.invalid/repo/api/v1/report/" + strconv.FormatInt(u.ID, 10), Tool: s.cfg.Tool}, nil
}
