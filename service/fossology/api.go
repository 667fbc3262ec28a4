package fossology

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
	"github.com/reehub/reehub/service/fossology/report"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// Webhook is where a job's result is POSTed when it ends.
type Webhook struct {
	// URL is an http or https URL under the url upload address rules.
	URL string
	// Secret keys the HMAC-SHA256 signature header; empty sends no signature.
	Secret string
}

// BucketWarning is the warning of a job that asked for the bucket agent:
// the seed's own example asks for it, so the job runs without it rather than
// failing, and says so.
const BucketWarning = "agent bucket is not supported by this server (reehub has no bucket pools); the job runs without it"

// NoReuseWarning is the warning of a job that asked for the bulk_reused
// decider with reuse_upload 0 (fossology-python's documented example does):
// there is no earlier upload whose bulk decisions could apply, so the decider
// has nothing to do and the job runs without it.
const NoReuseWarning = "decider bulk_reused has no upload to reuse (reuse_upload 0); the job runs without it"

// ScheduleJobs validates the options and submits one scan job on an
// unpacked upload; folderID must be a folder of the group (the seed's own
// example names the top folder for an upload in another, so the upload need
// not be in it). Its steps are the agents, reuse and
// the deciders. It returns the job id, and a warning when it leaves an
// agent out (bucket) or a decider that has nothing to do (bulk_reused with
// reuse_upload 0).
func (s *Service) ScheduleJobs(ctx context.Context, c Caller, folderID, uploadID int64, o ScanOptions, hook *Webhook) (int64, string, error) {
	var warnings []string
	if o.Analysis.Bucket {
		o.Analysis.Bucket = false
		warnings = append(warnings, BucketWarning)
	}
	if o.NoReuse && o.Reuse == nil && o.Decider.BulkReused {
		o.Decider.BulkReused = false
		warnings = append(warnings, NoReuseWarning)
	}
	id, err := s.scheduleJobs(ctx, c, folderID, uploadID, o, hook)
	return id, strings.Join(warnings, "; "), err
}

func (s *Service) scheduleJobs(ctx context.Context, c Caller, folderID, uploadID int64, o ScanOptions, hook *Webhook) (int64, error) {
	plan, err := NewPlan(o)
	if err != nil {
		return 0, err
	}
	if err := s.CheckFolder(ctx, c, folderID); err != nil {
		return 0, err
	}
	u, err := s.readyUpload(ctx, c, uploadID)
	if err != nil {
		return 0, err
	}
	if plan.Reuse != nil {
		if err := s.checkReuse(ctx, c, plan.Reuse); err != nil {
			return 0, err
		}
	}
	if hook != nil {
		if err := s.cfg.Fetch.Check(ctx, hook.URL); err != nil {
			return 0, fmt.Errorf("webhook: %w", err)
		}
	}
	steps := make([]string, len(plan.Steps))
	names := make([]string, len(plan.Agents))
	for i, st := range plan.Steps {
		steps[i] = string(st)
	}
	for i, a := range plan.Agents {
		names[i] = string(a)
	}
	return s.submitScan(ctx, c, u.ID, kindScan, ScanArgs{Steps: steps, Reuse: plan.Reuse}, strings.Join(names, ","), hook)
}

func (s *Service) submitScan(ctx context.Context, c Caller, uploadID int64, kind string, args ScanArgs, agents string, hook *Webhook) (int64, error) {
	fj := store.FossologyJob{UploadID: uploadID, Kind: kind, Agents: agents}
	if hook != nil {
		fj.WebhookURL, fj.WebhookSecret, fj.WebhookState = hook.URL, hook.Secret, "pending"
	}
	_, err := s.engine.Submit(ctx, args, job.SubmitOpts{OwnerID: c.UserID, GroupID: &c.GroupID,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			fj.JobID = j.ID
			return tx.CreateFossologyJob(ctx, &fj)
		}})
	if err != nil {
		return 0, err
	}
	return fj.ID, nil
}

// checkReuse checks that the caller may read the reused upload: in the
// caller's group, or in the group reuse_group names (by id or name) if the
// caller is a member.
func (s *Service) checkReuse(ctx context.Context, c Caller, r *Reuse) error {
	u, err := s.store.FossologyUploadByID(ctx, r.Upload)
	notFound := fault.NotFoundf("reuse_upload %d not found", r.Upload)
	if err != nil {
		return notFound
	}
	if u.GroupID == c.GroupID {
		return nil
	}
	if r.Group == "" || c.Admin {
		if c.Admin {
			return nil
		}
		return notFound
	}
	gid, err := strconv.ParseInt(r.Group, 10, 64)
	if err != nil {
		g, gerr := s.store.GroupByName(ctx, r.Group)
		if gerr != nil {
			return notFound
		}
		gid = g.ID
	}
	if gid != u.GroupID {
		return notFound
	}
	in, err := s.store.IsMember(ctx, gid, c.UserID)
	if err != nil {
		return err
	}
	if !in {
		return notFound
	}
	return nil
}

// JobView is a job as FOSSology shows it.
type JobView struct {
	ID        int64
	Name      string
	QueueDate time.Time
	UploadID  int64
	UserID    int64
	GroupID   int64
	// ETA is the seconds left, from the files left and the measured rate.
	ETA    int
	Status JobStatus
	// FirstFindingAt is when the first license was found (scan jobs).
	FirstFindingAt *time.Time
	// Kind is unpack, scan, bulk or report.
	Kind string
	// Reason says why it failed.
	Reason string
}

// statusOf converts an engine state into FOSSology's vocabulary.
func statusOf(st job.State) JobStatus {
	switch st {
	case job.StateQueued:
		return JobQueued
	case job.StateRunning:
		return JobProcessing
	case job.StateSucceeded:
		return JobCompleted
	}
	return JobFailed
}

func (s *Service) view(fj store.FossologyJob, j store.Job, uploadName string) JobView {
	v := JobView{ID: fj.ID, Name: uploadName, QueueDate: j.CreatedAt, UploadID: fj.UploadID, UserID: j.OwnerID,
		Status: statusOf(job.State(j.State)), FirstFindingAt: fj.FirstFindingAt, Kind: fj.Kind}
	if j.GroupID != nil {
		v.GroupID = *j.GroupID
	}
	if v.Status == JobFailed {
		v.Reason = j.Reason
	}
	if v.Status == JobProcessing && fj.StepStartedAt != nil && fj.FilesTotal > 0 {
		v.ETA = max(0, ETA(fj.FilesDone, fj.FilesTotal, s.store.Now().Sub(*fj.StepStartedAt)))
	}
	return v
}

func (s *Service) views(ctx context.Context, fjs []store.FossologyJob) ([]JobView, error) {
	jobs, err := s.store.JobsOfFossologyJobs(ctx, fjs)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	out := make([]JobView, len(fjs))
	for i, fj := range fjs {
		name, ok := names[fj.UploadID]
		if !ok {
			if u, err := s.store.FossologyUploadByID(ctx, fj.UploadID); err == nil {
				name = u.Name
			}
			names[fj.UploadID] = name
		}
		out[i] = s.view(fj, jobs[i], name)
	}
	return out, nil
}

// Jobs returns a page of the group's jobs (of one upload when uploadID is
// not 0), newest first, and the number of pages.
func (s *Service) Jobs(ctx context.Context, c Caller, uploadID int64, page, limit int) ([]JobView, int, error) {
	if uploadID != 0 {
		if _, err := s.upload(ctx, c, uploadID); err != nil {
			return nil, 0, err
		}
	}
	page, limit = pageOf(page, limit)
	rows, total, err := s.store.ListFossologyJobs(ctx, c.GroupID, uploadID, limit, (page-1)*limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.views(ctx, rows)
	return out, pages(total, limit), err
}

// Job returns one job of the group.
func (s *Service) Job(ctx context.Context, c Caller, id int64) (JobView, error) {
	fj, err := s.store.FossologyJobOf(ctx, c.GroupID, id)
	if err != nil {
		return JobView{}, err
	}
	vs, err := s.views(ctx, []store.FossologyJob{fj})
	if err != nil {
		return JobView{}, err
	}
	return vs[0], nil
}

// scanState returns the agents of the upload's scan jobs that succeeded,
// and those still queued or running.
func (s *Service) scanState(ctx context.Context, uploadID int64) (done, pending []agent.Agent, err error) {
	fjs, jobs, err := s.store.FossologyJobsOfUpload(ctx, uploadID)
	if err != nil {
		return nil, nil, err
	}
	for i, fj := range fjs {
		if fj.Kind != kindScan && fj.Kind != kindBulk {
			continue
		}
		st := job.State(jobs[i].State)
		for _, name := range strings.Split(fj.Agents, ",") {
			if name == "" {
				continue
			}
			switch {
			case st == job.StateSucceeded:
				done = append(done, agent.Agent(name))
			case !st.Final():
				pending = append(pending, agent.Agent(name))
			}
		}
		if !st.Final() && fj.Agents == "" {
			pending = append(pending, "") // a decider or bulk job still runs
		}
	}
	return done, pending, nil
}

// retryAfter is the Retry-After of a running scan of upload id: its eta,
// between 1 and 30 seconds.
func (s *Service) retryAfter(ctx context.Context, c Caller, id int64) int {
	vs, _, err := s.Jobs(ctx, c, id, 1, 10)
	if err != nil {
		return 5
	}
	eta := 1
	for _, v := range vs {
		if v.Status == JobProcessing || v.Status == JobQueued {
			eta = max(eta, v.ETA)
		}
	}
	return min(eta, 30)
}

// Summary returns the summary of an unpacked upload.
func (s *Service) Summary(ctx context.Context, c Caller, id int64) (Summary, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return Summary{}, err
	}
	tree, findings, ds, err := s.results(ctx, u)
	if err != nil {
		return Summary{}, err
	}
	sum := Summarize(u.ID, tree, findings, ds, u.MainLicense)
	return sum, nil
}

func (s *Service) results(ctx context.Context, u store.FossologyUploadRow) (tree *unpack.Tree, findings []agent.Finding, ds map[string]clearing.Decision, err error) {
	if tree, err = s.tree(ctx, u); err != nil {
		return
	}
	if findings, err = s.findings(ctx, u.ID); err != nil {
		return
	}
	ds, err = s.decisions(ctx, u.ID)
	return
}

// LicenseQuery selects a licenses listing.
type LicenseQuery struct {
	// Agents is the agent parameter ("nomos,monk,ojo"); empty for every scanner that ran.
	Agents     string
	Containers bool
	Copyright  bool
	// License false leaves the scanner findings and conclusions out.
	License     bool
	Page, Limit int
}

// Licenses returns a page of the licenses listing and the number of pages:
// 412 (ErrAgentNotScheduled) for an agent no job ran, 503 while one that
// was asked for still runs.
func (s *Service) Licenses(ctx context.Context, c Caller, id int64, q LicenseQuery) ([]LicenseEntry, int, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return nil, 0, err
	}
	done, pending, err := s.scanState(ctx, u.ID)
	if err != nil {
		return nil, 0, err
	}
	agents, err := ParseAgents(q.Agents, append(slices.Clone(done), pending...))
	if err != nil {
		return nil, 0, err
	}
	for _, a := range agents {
		if slices.Contains(pending, a) {
			return nil, 0, notReady(s.retryAfter(ctx, c, u.ID), u.ID, "agent %s has not finished on upload %d", a, u.ID)
		}
	}
	tree, findings, ds, err := s.results(ctx, u)
	if err != nil {
		return nil, 0, err
	}
	list := ListLicenses(tree, findings, ds, ListOptions{Agents: agents, Containers: q.Containers, Copyright: q.Copyright})
	if !q.License {
		for i := range list {
			list[i].Findings.Scanner, list[i].Findings.Conclusion = []string{}, nil
		}
	}
	page, limit := pageOf(q.Page, q.Limit)
	if q.Limit <= 0 {
		limit = max(1, len(list))
	}
	from := min(len(list), (page-1)*limit)
	return list[from:min(len(list), from+limit)], pages(int64(len(list)), limit), nil
}

// Copyrights returns the copyright statements of an upload.
func (s *Service) Copyrights(ctx context.Context, c Caller, id int64) ([]CopyrightEntry, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return nil, err
	}
	_, pending, err := s.scanState(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(pending, agent.Copyright) {
		return nil, notReady(s.retryAfter(ctx, c, u.ID), u.ID, "agent copyright_email_author has not finished on upload %d", u.ID)
	}
	findings, err := s.findings(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return ListCopyrights(findings), nil
}

// TreeItem is an item of the upload tree with its id.
type TreeItem struct {
	ItemID int64
	Item   unpack.Item
}

// Tree returns a page of the unpacked tree and the number of pages.
func (s *Service) Tree(ctx context.Context, c Caller, id int64, page, limit int) ([]TreeItem, int, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return nil, 0, err
	}
	t, err := s.tree(ctx, u)
	if err != nil {
		return nil, 0, err
	}
	page, limit = pageOf(page, limit)
	from := min(len(t.Items), (page-1)*limit)
	var out []TreeItem
	for i := from; i < min(len(t.Items), from+limit); i++ {
		out = append(out, TreeItem{ItemID: int64(i + 1), Item: t.Items[i]})
	}
	return out, pages(int64(len(t.Items)), limit), nil
}

// SetDecision sets the clearing decision of item itemID.
func (s *Service) SetDecision(ctx context.Context, c Caller, id, itemID int64, status string, licenses []string, comment string) error {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return err
	}
	it, err := s.store.FossologyItem(ctx, u.ID, itemID)
	if err != nil {
		return err
	}
	item := unpack.Item{Path: it.Path, Kind: unpack.Kind(it.Kind)}
	item.Hash.SHA1 = it.SHA1
	d, err := clearing.Decide(item, status, licenses, comment, c.UserName, s.store.Now())
	if err != nil {
		return err
	}
	return s.putDecisions(ctx, u.ID, []clearing.Decision{d})
}

// BulkConclude records a bulk rule on an upload, adding the licenses add
// to and removing the licenses remove from every file with text, and
// submits the job that applies it; it returns the job id.
func (s *Service) BulkConclude(ctx context.Context, c Caller, id, itemID int64, text string, add, remove []string) (int64, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return 0, err
	}
	if _, err := s.store.FossologyItem(ctx, u.ID, itemID); err != nil {
		return 0, err
	}
	b, err := clearing.NewBulk(text, add, remove, c.UserName)
	if err != nil {
		return 0, err
	}
	row := store.FossologyBulk{UploadID: u.ID, Text: b.Text, Licenses: strings.Join(b.Licenses, " "), Removes: strings.Join(b.Remove, " "), UserID: c.UserName}
	if err := s.store.CreateFossologyBulk(ctx, &row); err != nil {
		return 0, err
	}
	return s.submitScan(ctx, c, u.ID, kindBulk, ScanArgs{Steps: []string{stepMonkBulk}, BulkID: row.ID}, "", nil)
}

// SetMainLicense sets the concluded main license of an upload.
func (s *Service) SetMainLicense(ctx context.Context, c Caller, id int64, license string) error {
	u, err := s.upload(ctx, c, id)
	if err != nil {
		return err
	}
	license = strings.TrimSpace(license)
	if license == "" || strings.ContainsAny(license, " \t\n") {
		return fault.Invalidf("shortName %q is not a license id", license)
	}
	return s.store.UpdateFossologyUpload(ctx, u.ID, map[string]any{"main_license": license})
}

// GenerateReport submits a report job on an upload whose scans are all
// done (a NotReadyError otherwise) and returns the report id.
func (s *Service) GenerateReport(ctx context.Context, c Caller, id int64, format string) (int64, error) {
	f, err := report.ParseFormat(format)
	if err != nil {
		return 0, err
	}
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return 0, err
	}
	_, pending, err := s.scanState(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if len(pending) > 0 {
		return 0, notReady(s.retryAfter(ctx, c, u.ID), u.ID, "the scans of upload %d have not finished; a report would be partial", u.ID)
	}
	r := store.FossologyReport{UploadID: u.ID, Format: string(f)}
	_, err = s.engine.Submit(ctx, ReportArgs{}, job.SubmitOpts{OwnerID: c.UserID, GroupID: &c.GroupID,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			r.JobID = j.ID
			if err := tx.CreateFossologyReport(ctx, &r); err != nil {
				return err
			}
			return tx.CreateFossologyJob(ctx, &store.FossologyJob{JobID: j.ID, UploadID: u.ID, Kind: kindReport})
		}})
	if err != nil {
		return 0, err
	}
	return r.ID, nil
}

// ReportFile is a finished report.
type ReportFile struct {
	// File is the open report; the caller closes it.
	File *os.File
	// Name is its file name.
	Name string
	// ContentType is its media type.
	ContentType string
	// Size is its length.
	Size int64
}

// Report returns a finished report (a NotReadyError while it is written).
func (s *Service) Report(ctx context.Context, c Caller, id int64) (ReportFile, error) {
	r, err := s.store.FossologyReportOf(ctx, c.GroupID, id)
	if err != nil {
		return ReportFile{}, err
	}
	if r.Digest == "" {
		j, err := s.store.JobByID(ctx, r.JobID)
		if err == nil && job.State(j.State).Final() && job.State(j.State) != job.StateSucceeded {
			return ReportFile{}, fmt.Errorf("report %d failed: %s", id, j.Reason)
		}
		return ReportFile{}, notReady(2, 0, "report %d is being generated", id)
	}
	f, err := s.blobs.OpenFile(ctx, r.Digest)
	if err != nil {
		return ReportFile{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return ReportFile{}, err
	}
	return ReportFile{File: f, Name: r.FileName, ContentType: report.Format(r.Format).ContentType(), Size: fi.Size()}, nil
}

// webhookPayload is what a webhook receives: the job as GET /jobs/{id} shows it.
type webhookPayload struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	QueueDate      string  `json:"queueDate"`
	UploadID       string  `json:"uploadId"`
	UserID         string  `json:"userId"`
	GroupID        string  `json:"groupId"`
	ETA            int     `json:"eta"`
	Status         string  `json:"status"`
	FirstFindingAt *string `json:"firstFindingDate"`
}

// SignatureHeader is the header carrying a webhook's signature:
// "sha256=" and the hex HMAC-SHA256 of the body keyed with the secret.
const SignatureHeader = "X-Reehub-Signature-256"

// Sign returns the signature header value of body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// RunWebhooks delivers the webhooks of ended jobs until ctx ends: each is
// POSTed with its signature, and retried with doubling waits up to
// WebhookRetries times.
func (s *Service) RunWebhooks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.deliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "deliver webhooks", "err", err)
		}
	}
}

// deliverDue delivers the due webhooks. Each delivery is claimed in the
// database first (store.ClaimWebhook), so that of several instances on one
// database exactly one sends it; an instance that dies while sending loses
// its claim after WebhookTimeout plus a margin, and the delivery is tried
// again as the next attempt.
func (s *Service) deliverDue(ctx context.Context) error {
	now := s.store.Now()
	due, err := s.store.DueWebhooks(ctx, now)
	if err != nil {
		return err
	}
	for _, fj := range due {
		vs, err := s.views(ctx, []store.FossologyJob{fj})
		if err != nil {
			return err
		}
		v := vs[0]
		if v.Status != JobCompleted && v.Status != JobFailed {
			continue
		}
		if fj.WebhookAttempts >= s.cfg.WebhookRetries {
			// The last attempt's instance died while sending.
			if err := s.store.FinishWebhook(ctx, fj.ID, fj.WebhookAttempts, map[string]any{"webhook_state": "failed"}); err != nil {
				return err
			}
			continue
		}
		got, err := s.store.ClaimWebhook(ctx, fj.ID, fj.WebhookAttempts, now, now.Add(s.cfg.WebhookTimeout+webhookLeaseMargin))
		if err != nil {
			return err
		}
		if !got {
			continue // another instance is sending it
		}
		attempt := fj.WebhookAttempts + 1
		p := webhookPayload{ID: v.ID, Name: v.Name, QueueDate: Timestamp(v.QueueDate), UploadID: strconv.FormatInt(v.UploadID, 10),
			UserID: strconv.FormatInt(v.UserID, 10), GroupID: strconv.FormatInt(v.GroupID, 10), ETA: v.ETA, Status: string(v.Status)}
		if v.FirstFindingAt != nil {
			ts := Timestamp(*v.FirstFindingAt)
			p.FirstFindingAt = &ts
		}
		body, _ := json.Marshal(p)
		hdr := map[string]string{"X-Reehub-Event": "job"}
		if fj.WebhookSecret != "" {
			hdr[SignatureHeader] = Sign(fj.WebhookSecret, body)
		}
		pctx, cancel := context.WithTimeout(ctx, s.cfg.WebhookTimeout)
		perr := s.cfg.Fetch.Post(pctx, fj.WebhookURL, body, hdr)
		cancel()
		var cols map[string]any
		switch {
		case perr == nil:
			cols = map[string]any{"webhook_state": "delivered"}
		case attempt >= s.cfg.WebhookRetries:
			cols = map[string]any{"webhook_state": "failed"}
			s.log.WarnContext(ctx, "webhook failed for good", "job", fj.ID, "err", perr)
		default:
			cols = map[string]any{"webhook_state": "pending", "webhook_next_at": s.store.Now().Add(s.cfg.WebhookBackoff << fj.WebhookAttempts)}
			s.log.InfoContext(ctx, "webhook failed; retrying", "job", fj.ID, "attempt", attempt, "err", perr)
		}
		if err := s.store.FinishWebhook(ctx, fj.ID, attempt, cols); err != nil {
			return err
		}
	}
	return nil
}

// webhookLeaseMargin is how much longer than WebhookTimeout a claim on a
// delivery holds.
const webhookLeaseMargin = 30 * time.Second
