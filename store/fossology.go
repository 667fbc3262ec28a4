package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TopFolderID is the id of "Software Repository", the top folder every group
// sees (the row with no group).
const TopFolderID int64 = 1

// FossologyFolder is a folder of the FOSSology family. The top folder has no
// group; every other folder belongs to one group.
type FossologyFolder struct {
	ID          int64
	GroupID     *int64
	ParentID    *int64
	Name        string
	Description string
	CreatedAt   time.Time
}

// FossologyUpload is an uploaded package of a group. State is the unpack
// state (queued, unpacking, unpacked, failed), owned by service/fossology.
type FossologyUpload struct {
	ID             int64
	GroupID        int64
	OwnerID        int64
	FolderID       int64
	Name           string
	Description    string
	UploadType     string
	Public         string
	IgnoreScm      bool
	Source         string
	BlobDigest     string
	SHA1           string `gorm:"column:sha1"`
	MD5            string `gorm:"column:md5"`
	SHA256         string `gorm:"column:sha256"`
	Size           int64
	State          string
	Reason         string
	ClearingStatus string
	AssigneeID     *int64
	MainLicense    string
	CreatedAt      time.Time
	UnpackedAt     *time.Time
}

// FossologyUploadRow is an upload with its folder's name.
type FossologyUploadRow struct {
	FossologyUpload `gorm:"embedded"`
	FolderName      string
}

// FossologyItem is one node of an upload's unpacked tree.
type FossologyItem struct {
	UploadID   int64 `gorm:"primaryKey;autoIncrement:false"`
	ItemID     int64 `gorm:"primaryKey;autoIncrement:false"`
	Path       string
	Kind       string
	SHA1       string `gorm:"column:sha1"`
	MD5        string `gorm:"column:md5"`
	SHA256     string `gorm:"column:sha256"`
	Size       int64
	MimeType   string
	Format     string
	Archive    string
	LinkTarget string
	// PkgInfo is the JSON of a package container's metadata (unpack.Package), or empty.
	PkgInfo string
}

// FossologyJob is the FOSSology view of an engine job: the integer id
// FOSSology clients see and what the family adds (the upload, the agents,
// files done for the eta, the first finding, the webhook).
type FossologyJob struct {
	ID              int64
	JobID           string
	UploadID        int64
	Kind            string
	Agents          string
	FilesTotal      int
	FilesDone       int
	StepStartedAt   *time.Time
	FirstFindingAt  *time.Time
	WebhookURL      string
	WebhookSecret   string
	WebhookState    string
	WebhookAttempts int
	WebhookNextAt   *time.Time
}

// FossologyFinding is one result of one agent in one file. Findings are
// stored in sets (fossology_finding_sets: one row per agent and batch, the
// findings a JSON array of objects with these fields' json names), since
// nothing reads one alone.
type FossologyFinding struct {
	UploadID   int64  `json:"-"`
	Agent      string `json:"-"`
	Path       string `json:"path"`
	SHA1       string `json:"sha1,omitempty"`
	Type       string `json:"type"`
	Value      string `json:"value"`
	Expression string `json:"expression,omitempty"`
	Rule       string `json:"rule,omitempty"`
	StartLine  int    `json:"start_line,omitempty"`
	EndLine    int    `json:"end_line,omitempty"`
}

// findingSet is a row of fossology_finding_sets.
type findingSet struct {
	ID       int64
	UploadID int64
	Agent    string
	Findings string
}

func (findingSet) TableName() string { return "fossology_finding_sets" }

// FossologyDecision is the clearing decision on one file; Licenses are
// space-separated.
type FossologyDecision struct {
	UploadID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Path      string `gorm:"primaryKey"`
	SHA1      string `gorm:"column:sha1"`
	Status    string
	Licenses  string
	Source    string
	Comment   string
	UserID    string
	DecidedAt time.Time
}

// FossologyBulk is a bulk conclusion rule of an upload; Licenses are space-separated.
type FossologyBulk struct {
	ID       int64
	UploadID int64
	Text     string
	Licenses string
	// Removes are the license ids the rule removes, space-separated.
	Removes   string
	UserID    string
	CreatedAt time.Time
}

// FossologyReport is a report of an upload; Digest is empty until it is written.
type FossologyReport struct {
	ID        int64
	UploadID  int64
	JobID     string
	Format    string
	Digest    string
	FileName  string
	CreatedAt time.Time
}

// CreateFossologyFolder inserts f and sets its id.
func (s *Store) CreateFossologyFolder(ctx context.Context, f *FossologyFolder) error {
	f.CreatedAt = s.Now()
	return translate(s.db.WithContext(ctx).Create(f).Error, "folder "+f.Name)
}

// FossologyFolders returns the top folder and every folder of the group, by id.
func (s *Store) FossologyFolders(ctx context.Context, groupID int64) ([]FossologyFolder, error) {
	var out []FossologyFolder
	err := s.db.WithContext(ctx).Where("id = ? OR group_id = ?", TopFolderID, groupID).Order("id").Find(&out).Error
	return out, translate(err, "list folders")
}

// FossologyFolderOf returns folder id if the group sees it.
func (s *Store) FossologyFolderOf(ctx context.Context, groupID, id int64) (FossologyFolder, error) {
	var f FossologyFolder
	err := s.db.WithContext(ctx).Where("id = ? AND (id = ? OR group_id = ?)", id, TopFolderID, groupID).Take(&f).Error
	return f, translate(err, fmt.Sprintf("folder %d", id))
}

// UpdateFossologyFolder changes the named columns of a folder of the group
// (never the top folder).
func (s *Store) UpdateFossologyFolder(ctx context.Context, groupID, id int64, cols map[string]any) error {
	res := s.db.WithContext(ctx).Model(&FossologyFolder{}).Where("id = ? AND group_id = ?", id, groupID).Updates(cols)
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, fmt.Sprintf("folder %d", id))
	}
	return translate(res.Error, fmt.Sprintf("folder %d", id))
}

// DeleteFossologyFolder deletes a folder of the group; its sub-folders go
// with it (the caller deletes their uploads first).
func (s *Store) DeleteFossologyFolder(ctx context.Context, groupID, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND group_id = ?", id, groupID).Delete(&FossologyFolder{})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, fmt.Sprintf("folder %d", id))
	}
	return translate(res.Error, fmt.Sprintf("folder %d", id))
}

// CreateFossologyUpload inserts u and sets its id.
func (s *Store) CreateFossologyUpload(ctx context.Context, u *FossologyUpload) error {
	u.CreatedAt = s.Now()
	return translate(s.db.WithContext(ctx).Create(u).Error, "upload "+u.Name)
}

func (s *Store) uploadRows() *gorm.DB {
	return s.db.Table("fossology_uploads").Select("fossology_uploads.*, fossology_folders.name AS folder_name").
		Joins("JOIN fossology_folders ON fossology_folders.id = fossology_uploads.folder_id")
}

// FossologyUploadOf returns upload id of the group with its folder's name.
func (s *Store) FossologyUploadOf(ctx context.Context, groupID, id int64) (FossologyUploadRow, error) {
	var u FossologyUploadRow
	err := s.uploadRows().WithContext(ctx).Where("fossology_uploads.id = ? AND fossology_uploads.group_id = ?", id, groupID).Take(&u).Error
	return u, translate(err, fmt.Sprintf("upload %d", id))
}

// FossologyUploadByID returns upload id whatever its group (for the workers).
func (s *Store) FossologyUploadByID(ctx context.Context, id int64) (FossologyUploadRow, error) {
	var u FossologyUploadRow
	err := s.uploadRows().WithContext(ctx).Where("fossology_uploads.id = ?", id).Take(&u).Error
	return u, translate(err, fmt.Sprintf("upload %d", id))
}

// FossologyUploadFilter selects uploads of one group. Zero fields match any.
type FossologyUploadFilter struct {
	GroupID    int64
	States     []string
	FolderIDs  []int64
	NameLike   string
	Status     string
	AssigneeID *int64
	// Unassigned selects uploads without an assignee.
	Unassigned bool
	Since      *time.Time
	Limit      int
	Offset     int
}

// ListFossologyUploads returns a page of matching uploads, oldest first, and the total.
func (s *Store) ListFossologyUploads(ctx context.Context, f FossologyUploadFilter) ([]FossologyUploadRow, int64, error) {
	q := s.uploadRows().WithContext(ctx).Where("fossology_uploads.group_id = ?", f.GroupID)
	if len(f.States) > 0 {
		q = q.Where("fossology_uploads.state IN ?", f.States)
	}
	if len(f.FolderIDs) > 0 {
		q = q.Where("fossology_uploads.folder_id IN ?", f.FolderIDs)
	}
	if f.NameLike != "" {
		q = q.Where("LOWER(fossology_uploads.name) LIKE ?", "%"+strings.ToLower(f.NameLike)+"%")
	}
	if f.Status != "" {
		q = q.Where("fossology_uploads.clearing_status = ?", f.Status)
	}
	if f.AssigneeID != nil {
		q = q.Where("fossology_uploads.assignee_id = ?", *f.AssigneeID)
	}
	if f.Unassigned {
		q = q.Where("fossology_uploads.assignee_id IS NULL")
	}
	if f.Since != nil {
		q = q.Where("fossology_uploads.created_at >= ?", *f.Since)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "count uploads")
	}
	var out []FossologyUploadRow
	err := q.Order("fossology_uploads.id").Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, translate(err, "list uploads")
}

// UploadIDsInFolders returns the ids of the uploads of the group in the folders.
func (s *Store) UploadIDsInFolders(ctx context.Context, groupID int64, folders []int64) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&FossologyUpload{}).Where("group_id = ? AND folder_id IN ?", groupID, folders).Pluck("id", &ids).Error
	return ids, translate(err, "uploads in folders")
}

// UpdateFossologyUpload changes the named columns of upload id.
func (s *Store) UpdateFossologyUpload(ctx context.Context, id int64, cols map[string]any) error {
	res := s.db.WithContext(ctx).Model(&FossologyUpload{}).Where("id = ?", id).Updates(cols)
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, fmt.Sprintf("upload %d", id))
	}
	return translate(res.Error, fmt.Sprintf("upload %d", id))
}

// DeleteFossologyUpload deletes upload id with its items, findings,
// decisions, jobs links and reports.
func (s *Store) DeleteFossologyUpload(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&FossologyUpload{})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, fmt.Sprintf("upload %d", id))
	}
	return translate(res.Error, fmt.Sprintf("upload %d", id))
}

// The columns an INSERT of each row type binds (batchRows).
const (
	itemColumns       = 14
	findingSetColumns = 3
	decisionColumns   = 9
)

// batchRows is how many rows one INSERT of n columns carries: up to 5000
// parameters on Postgres, 500 on SQLite, whose driver (glebarez/go-sqlite)
// looks each parameter up among all of the statement's arguments, so that
// binding costs the square of a statement's parameters (a 500-row INSERT of
// findings spent more in that lookup than SQLite in the inserts).
func (s *Store) batchRows(columns int) int {
	if s.dialect == Postgres {
		return max(1, 5000/columns)
	}
	return max(1, 500/columns)
}

// ReplaceFossologyItems replaces the tree of an upload.
func (s *Store) ReplaceFossologyItems(ctx context.Context, uploadID int64, items []FossologyItem) error {
	return s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Where("upload_id = ?", uploadID).Delete(&FossologyItem{}).Error; err != nil {
			return translate(err, "clear tree")
		}
		if len(items) == 0 {
			return nil
		}
		return translate(db.CreateInBatches(items, tx.batchRows(itemColumns)).Error, "store tree")
	})
}

// FossologyItems returns the tree of an upload by item id.
func (s *Store) FossologyItems(ctx context.Context, uploadID int64) ([]FossologyItem, error) {
	var out []FossologyItem
	err := s.db.WithContext(ctx).Where("upload_id = ?", uploadID).Order("item_id").Find(&out).Error
	return out, translate(err, "upload tree")
}

// FossologyItem returns one item of an upload.
func (s *Store) FossologyItem(ctx context.Context, uploadID, itemID int64) (FossologyItem, error) {
	var it FossologyItem
	err := s.db.WithContext(ctx).Where("upload_id = ? AND item_id = ?", uploadID, itemID).Take(&it).Error
	return it, translate(err, fmt.Sprintf("item %d of upload %d", itemID, uploadID))
}

// DeleteFossologyFindings removes the findings of agent on an upload (a
// step that starts again starts clean).
func (s *Store) DeleteFossologyFindings(ctx context.Context, uploadID int64, agent string) error {
	err := s.db.WithContext(ctx).Where("upload_id = ? AND agent = ?", uploadID, agent).Delete(&findingSet{}).Error
	return translate(err, "clear findings")
}

// AddFossologyFindings stores findings in one transaction: a set per
// upload and agent, in the order given.
func (s *Store) AddFossologyFindings(ctx context.Context, fs []FossologyFinding) error {
	type key struct {
		upload int64
		agent  string
	}
	var keys []key
	groups := map[key][]FossologyFinding{}
	for _, f := range fs {
		k := key{f.UploadID, f.Agent}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	sets := make([]string, len(keys))
	for i, k := range keys {
		b, err := json.Marshal(groups[k])
		if err != nil {
			return fmt.Errorf("store findings: %w", err)
		}
		sets[i] = string(b)
	}
	return s.insertRows(ctx, "store findings", "INSERT INTO fossology_finding_sets (upload_id, agent, findings) VALUES ", "",
		findingSetColumns, len(keys), func(i int, args []any) []any {
			return append(args, keys[i].upload, keys[i].agent, sets[i])
		})
}

// AddFossologyDecisions inserts decisions in one transaction, leaving alone
// a file that has a decision already (a user may decide while a scan's
// deciders run).
func (s *Store) AddFossologyDecisions(ctx context.Context, ds []FossologyDecision) error {
	return s.insertRows(ctx, "store decisions",
		"INSERT INTO fossology_decisions (upload_id, path, sha1, status, licenses, source, comment, user_id, decided_at) VALUES ",
		" ON CONFLICT (upload_id, path) DO NOTHING", decisionColumns, len(ds), func(i int, args []any) []any {
			d := ds[i]
			return append(args, d.UploadID, d.Path, d.SHA1, d.Status, d.Licenses, d.Source, d.Comment, d.UserID, d.DecidedAt)
		})
}

// insertRows inserts n rows of columns values each in one transaction, in
// multi-row INSERTs of batchRows rows: each is insert (up to VALUES), the
// rows' placeholders, then suffix. row appends row i's values to args.
func (s *Store) insertRows(ctx context.Context, what, insert, suffix string, columns, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	per := s.batchRows(columns)
	tuple := "(?" + strings.Repeat(",?", columns-1) + ")"
	return s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		var sql strings.Builder
		args := make([]any, 0, min(per, n)*columns)
		for start := 0; start < n; start += per {
			end := min(start+per, n)
			sql.Reset()
			sql.WriteString(insert)
			args = args[:0]
			for i := start; i < end; i++ {
				if i > start {
					sql.WriteByte(',')
				}
				sql.WriteString(tuple)
				args = row(i, args)
			}
			sql.WriteString(suffix)
			if err := db.Exec(sql.String(), args...).Error; err != nil {
				return translate(err, what)
			}
		}
		return nil
	})
}

// FossologyFindings returns every finding of an upload but those of the
// agents in except, in the order they were stored.
func (s *Store) FossologyFindings(ctx context.Context, uploadID int64, except ...string) ([]FossologyFinding, error) {
	var sets []findingSet
	q := s.db.WithContext(ctx).Where("upload_id = ?", uploadID)
	if len(except) > 0 {
		q = q.Where("agent NOT IN ?", except)
	}
	if err := q.Order("id").Find(&sets).Error; err != nil {
		return nil, translate(err, "findings")
	}
	var out []FossologyFinding
	for _, set := range sets {
		var fs []FossologyFinding
		if err := json.Unmarshal([]byte(set.Findings), &fs); err != nil {
			return nil, fmt.Errorf("findings of upload %d (set %d): %w", uploadID, set.ID, err)
		}
		for i := range fs {
			fs[i].UploadID, fs[i].Agent = set.UploadID, set.Agent
		}
		out = append(out, fs...)
	}
	return out, nil
}

// PutFossologyDecisions inserts or replaces decisions (by upload and path).
func (s *Store) PutFossologyDecisions(ctx context.Context, ds []FossologyDecision) error {
	if len(ds) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(ds, s.batchRows(decisionColumns)).Error
	return translate(err, "store decisions")
}

// FossologyDecisions returns the decisions of an upload.
func (s *Store) FossologyDecisions(ctx context.Context, uploadID int64) ([]FossologyDecision, error) {
	var out []FossologyDecision
	err := s.db.WithContext(ctx).Where("upload_id = ?", uploadID).Order("path").Find(&out).Error
	return out, translate(err, "decisions")
}

// CreateFossologyBulk inserts a bulk rule and sets its id.
func (s *Store) CreateFossologyBulk(ctx context.Context, b *FossologyBulk) error {
	b.CreatedAt = s.Now()
	return translate(s.db.WithContext(ctx).Create(b).Error, "bulk")
}

// FossologyBulks returns the bulk rules of an upload, oldest first.
func (s *Store) FossologyBulks(ctx context.Context, uploadID int64) ([]FossologyBulk, error) {
	var out []FossologyBulk
	err := s.db.WithContext(ctx).Where("upload_id = ?", uploadID).Order("id").Find(&out).Error
	return out, translate(err, "bulks")
}

// CreateFossologyJob inserts the FOSSology view of an engine job and sets its id.
func (s *Store) CreateFossologyJob(ctx context.Context, j *FossologyJob) error {
	return translate(s.db.WithContext(ctx).Create(j).Error, "job")
}

// FossologyJobOf returns job id if its upload belongs to the group.
func (s *Store) FossologyJobOf(ctx context.Context, groupID, id int64) (FossologyJob, error) {
	var j FossologyJob
	err := s.db.WithContext(ctx).Table("fossology_jobs").Select("fossology_jobs.*").
		Joins("JOIN fossology_uploads ON fossology_uploads.id = fossology_jobs.upload_id").
		Where("fossology_jobs.id = ? AND fossology_uploads.group_id = ?", id, groupID).Take(&j).Error
	return j, translate(err, fmt.Sprintf("job %d", id))
}

// FossologyJobByEngineID returns the FOSSology view of engine job id.
func (s *Store) FossologyJobByEngineID(ctx context.Context, jobID string) (FossologyJob, error) {
	var j FossologyJob
	err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Take(&j).Error
	return j, translate(err, "job "+jobID)
}

// ListFossologyJobs returns a page of the group's jobs (of one upload when
// uploadID is not 0), newest first, and the total.
func (s *Store) ListFossologyJobs(ctx context.Context, groupID, uploadID int64, limit, offset int) ([]FossologyJob, int64, error) {
	q := s.db.WithContext(ctx).Table("fossology_jobs").
		Joins("JOIN fossology_uploads ON fossology_uploads.id = fossology_jobs.upload_id").
		Where("fossology_uploads.group_id = ?", groupID)
	if uploadID != 0 {
		q = q.Where("fossology_jobs.upload_id = ?", uploadID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "count jobs")
	}
	var out []FossologyJob
	err := q.Select("fossology_jobs.*").Order("fossology_jobs.id DESC").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, translate(err, "list jobs")
}

// FossologyJobsOfUpload returns every job of an upload with its engine job, oldest first.
func (s *Store) FossologyJobsOfUpload(ctx context.Context, uploadID int64) ([]FossologyJob, []Job, error) {
	var fj []FossologyJob
	if err := s.db.WithContext(ctx).Where("upload_id = ?", uploadID).Order("id").Find(&fj).Error; err != nil {
		return nil, nil, translate(err, "jobs of upload")
	}
	jobs, err := s.JobsOfFossologyJobs(ctx, fj)
	return fj, jobs, err
}

// JobsOfFossologyJobs returns the engine jobs of FOSSology jobs, in the same order.
func (s *Store) JobsOfFossologyJobs(ctx context.Context, fj []FossologyJob) ([]Job, error) {
	ids := make([]string, len(fj))
	for i, j := range fj {
		ids[i] = j.JobID
	}
	var rows []Job
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, translate(err, "jobs")
		}
	}
	by := map[string]Job{}
	for _, r := range rows {
		by[r.ID] = r
	}
	out := make([]Job, len(fj))
	for i, j := range fj {
		out[i] = by[j.JobID]
	}
	return out, nil
}

// UpdateFossologyJob changes the named columns of FOSSology job id.
func (s *Store) UpdateFossologyJob(ctx context.Context, id int64, cols map[string]any) error {
	err := s.db.WithContext(ctx).Model(&FossologyJob{}).Where("id = ?", id).Updates(cols).Error
	return translate(err, fmt.Sprintf("job %d", id))
}

// DueWebhooks returns jobs whose webhook is due at now: pending and past
// its retry time, or claimed by an instance whose lease ran out (it died
// while sending).
func (s *Store) DueWebhooks(ctx context.Context, now time.Time) ([]FossologyJob, error) {
	var out []FossologyJob
	err := s.db.WithContext(ctx).Where("webhook_state IN ? AND (webhook_next_at IS NULL OR webhook_next_at <= ?)", []string{"pending", "sending"}, now).
		Order("id").Limit(100).Find(&out).Error
	return out, translate(err, "due webhooks")
}

// ClaimWebhook claims the delivery of job id's webhook for one instance:
// a conditional update that succeeds for exactly one of the instances
// sharing the database that saw the job due with attempts tries made. The
// claim counts an attempt and holds until leaseUntil (then another instance
// may claim it again). It reports whether this caller got it.
func (s *Store) ClaimWebhook(ctx context.Context, id int64, attempts int, now, leaseUntil time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&FossologyJob{}).
		Where("id = ? AND webhook_state IN ? AND webhook_attempts = ? AND (webhook_next_at IS NULL OR webhook_next_at <= ?)",
			id, []string{"pending", "sending"}, attempts, now).
		Updates(map[string]any{"webhook_state": "sending", "webhook_attempts": attempts + 1, "webhook_next_at": leaseUntil})
	if res.Error != nil {
		return false, translate(res.Error, fmt.Sprintf("claim the webhook of job %d", id))
	}
	return res.RowsAffected == 1, nil
}

// FinishWebhook records the outcome of the claimed attempt (the attempts-th)
// of job id's webhook: the columns change only while that claim is still
// the job's, so a late instance never overwrites a newer attempt.
func (s *Store) FinishWebhook(ctx context.Context, id int64, attempts int, cols map[string]any) error {
	err := s.db.WithContext(ctx).Model(&FossologyJob{}).
		Where("id = ? AND webhook_state = ? AND webhook_attempts = ?", id, "sending", attempts).Updates(cols).Error
	return translate(err, fmt.Sprintf("webhook of job %d", id))
}

// CreateFossologyReport inserts a report and sets its id.
func (s *Store) CreateFossologyReport(ctx context.Context, r *FossologyReport) error {
	r.CreatedAt = s.Now()
	return translate(s.db.WithContext(ctx).Create(r).Error, "report")
}

// FossologyReportOf returns report id if its upload belongs to the group.
func (s *Store) FossologyReportOf(ctx context.Context, groupID, id int64) (FossologyReport, error) {
	var r FossologyReport
	err := s.db.WithContext(ctx).Table("fossology_reports").Select("fossology_reports.*").
		Joins("JOIN fossology_uploads ON fossology_uploads.id = fossology_reports.upload_id").
		Where("fossology_reports.id = ? AND fossology_uploads.group_id = ?", id, groupID).Take(&r).Error
	return r, translate(err, fmt.Sprintf("report %d", id))
}

// FossologyReportByID returns report id (for the worker).
func (s *Store) FossologyReportByID(ctx context.Context, id int64) (FossologyReport, error) {
	var r FossologyReport
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	return r, translate(err, fmt.Sprintf("report %d", id))
}

// FossologyReportByJobID returns the report engine job jobID writes.
func (s *Store) FossologyReportByJobID(ctx context.Context, jobID string) (FossologyReport, error) {
	var r FossologyReport
	err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Take(&r).Error
	return r, translate(err, "report of job "+jobID)
}

// UpdateFossologyReport changes the named columns of report id.
func (s *Store) UpdateFossologyReport(ctx context.Context, id int64, cols map[string]any) error {
	err := s.db.WithContext(ctx).Model(&FossologyReport{}).Where("id = ?", id).Updates(cols).Error
	return translate(err, fmt.Sprintf("report %d", id))
}
