package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/reehub/reehub/fault"
)

// Workflow is the row of one REANA workflow run: NAME.N, or NAME.N.M for the
// M-th restart of NAME.N (reana-db's run_number_major and run_number_minor).
// Its status is a view of its current job (JobID, "" until the first start)
// and DeletedAt.
type Workflow struct {
	ID      string `gorm:"primaryKey"`
	OwnerID int64
	Name    string
	// Run is the run number N (reana-db's run_number_major).
	Run int
	// RunMinor is the restart number M, 0 for the run itself (run_number_minor).
	RunMinor     int
	Spec         string
	Parameters   string
	Options      string
	Environments string
	JobID        string
	Workspace    string
	// ExpectedOutputs maps output paths to the sha256 a re-run crate recorded ("{}" for none).
	ExpectedOutputs string
	CreatedAt       time.Time
	DeletedAt       *time.Time
}

// TableName is the REANA family's workflow table.
func (Workflow) TableName() string { return "reana_workflows" }

// WorkflowStep is the row of one step of a workflow, as its last run left it.
type WorkflowStep struct {
	WorkflowID  string `gorm:"primaryKey"`
	Position    int    `gorm:"primaryKey;autoIncrement:false"`
	Name        string
	Status      string
	JobID       string
	Command     string
	ContainerID string
	ExitCode    *int
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// TableName is the REANA family's step table.
func (WorkflowStep) TableName() string { return "reana_workflow_steps" }

// Secret is the row of one of a user's secrets; Sealed is the encrypted value
// (base64), never the value itself.
type Secret struct {
	OwnerID   int64  `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"primaryKey"`
	Type      string
	Sealed    string
	CreatedAt time.Time
}

// TableName is the REANA family's secret table.
func (Secret) TableName() string { return "reana_secrets" }

// CacheEntry is the row of one step result of REANA's serial cache: the
// outputs (a JSON map of workspace paths to blob digests) a step with this
// key produced.
type CacheEntry struct {
	OwnerID    int64  `gorm:"primaryKey;autoIncrement:false"`
	CacheKey   string `gorm:"primaryKey"`
	WorkflowID string
	Step       string
	Outputs    string
	CreatedAt  time.Time
}

// TableName is the REANA family's cache table.
func (CacheEntry) TableName() string { return "reana_cache" }

// CreateWorkflow inserts a workflow and its steps in one transaction; a taken
// (owner, name, run) is a conflict.
func (s *Store) CreateWorkflow(ctx context.Context, w *Workflow, steps []WorkflowStep) error {
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.Now()
	}
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Create(w).Error; err != nil {
			return translate(err, "workflow "+w.Name)
		}
		if len(steps) == 0 {
			return nil
		}
		return translate(tx.db.WithContext(ctx).Create(&steps).Error, "steps of workflow "+w.Name)
	})
}

// NextWorkflowRun returns one more than the owner's last run number of name (1 for the first).
func (s *Store) NextWorkflowRun(ctx context.Context, ownerID int64, name string) (int, error) {
	var last *int
	err := s.db.WithContext(ctx).Model(&Workflow{}).Select("MAX(run)").
		Where("owner_id = ? AND name = ?", ownerID, name).Scan(&last).Error
	if err != nil {
		return 0, translate(err, "runs of workflow "+name)
	}
	if last == nil {
		return 1, nil
	}
	return *last + 1, nil
}

// NextRestartRun returns one more than the last restart number of the owner's
// run name.run (1 for its first restart), as reana-db numbers restarts.
func (s *Store) NextRestartRun(ctx context.Context, ownerID int64, name string, run int) (int, error) {
	var last *int
	err := s.db.WithContext(ctx).Model(&Workflow{}).Select("MAX(run_minor)").
		Where("owner_id = ? AND name = ? AND run = ?", ownerID, name, run).Scan(&last).Error
	if err != nil {
		return 0, translate(err, "restarts of workflow "+name+"."+strconv.Itoa(run))
	}
	if last == nil {
		return 0, fault.NotFoundf("workflow %s.%d not found", name, run)
	}
	return *last + 1, nil
}

// WorkflowOf returns workflow id of the owner; another user's is not found.
func (s *Store) WorkflowOf(ctx context.Context, ownerID int64, id string) (Workflow, error) {
	var w Workflow
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&w).Error
	return w, translate(err, "workflow "+id)
}

// WorkflowByID returns workflow id whoever owns it (for the job worker).
func (s *Store) WorkflowByID(ctx context.Context, id string) (Workflow, error) {
	var w Workflow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&w).Error
	return w, translate(err, "workflow "+id)
}

// WorkflowByName returns the owner's run name.run.minor (name.run when minor
// is 0), or, when run is 0, the latest run or restart of name (highest run,
// then highest restart), as reana-db resolves workflow names.
func (s *Store) WorkflowByName(ctx context.Context, ownerID int64, name string, run, minor int) (Workflow, error) {
	var w Workflow
	q := s.db.WithContext(ctx).Where("owner_id = ? AND name = ?", ownerID, name)
	what := "workflow " + name
	if run > 0 {
		q = q.Where("run = ? AND run_minor = ?", run, minor)
		what += "." + strconv.Itoa(run)
		if minor > 0 {
			what += "." + strconv.Itoa(minor)
		}
	}
	err := q.Order("run DESC, run_minor DESC").Take(&w).Error
	return w, translate(err, what)
}

// Workflows returns every workflow of the owner, newest first; with name, only its runs.
func (s *Store) Workflows(ctx context.Context, ownerID int64, name string) ([]Workflow, error) {
	var ws []Workflow
	q := s.db.WithContext(ctx).Where("owner_id = ?", ownerID)
	if name != "" {
		q = q.Where("name = ?", name)
	}
	err := q.Order("created_at DESC, run DESC, run_minor DESC").Find(&ws).Error
	return ws, translate(err, "workflows")
}

// WorkflowUpdate changes some columns of a workflow; nil fields stay.
type WorkflowUpdate struct {
	JobID      *string
	Parameters *string
	Options    *string
	Spec       *string
	DeletedAt  *time.Time
}

// UpdateWorkflow applies u to workflow id.
func (s *Store) UpdateWorkflow(ctx context.Context, id string, u WorkflowUpdate) error {
	cols := map[string]any{}
	if u.JobID != nil {
		cols["job_id"] = *u.JobID
	}
	if u.Parameters != nil {
		cols["parameters"] = *u.Parameters
	}
	if u.Options != nil {
		cols["options"] = *u.Options
	}
	if u.Spec != nil {
		cols["spec"] = *u.Spec
	}
	if u.DeletedAt != nil {
		cols["deleted_at"] = *u.DeletedAt
	}
	if len(cols) == 0 {
		return nil
	}
	res := s.db.WithContext(ctx).Model(&Workflow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return translate(res.Error, "workflow "+id)
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "workflow "+id)
	}
	return nil
}

// WorkflowSteps returns the steps of workflow id in order.
func (s *Store) WorkflowSteps(ctx context.Context, id string) ([]WorkflowStep, error) {
	var st []WorkflowStep
	err := s.db.WithContext(ctx).Where("workflow_id = ?", id).Order("position").Find(&st).Error
	return st, translate(err, "steps of workflow "+id)
}

// SaveWorkflowStep writes one step row (insert or replace).
func (s *Store) SaveWorkflowStep(ctx context.Context, st WorkflowStep) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&st).Error
	return translate(err, "step "+st.Name)
}

// ResetWorkflowSteps sets the steps of workflow id at positions from..to
// (inclusive) back to status, clearing their run's fields.
func (s *Store) ResetWorkflowSteps(ctx context.Context, id string, from, to int, status string) error {
	err := s.db.WithContext(ctx).Model(&WorkflowStep{}).
		Where("workflow_id = ? AND position >= ? AND position <= ?", id, from, to).
		Updates(map[string]any{"status": status, "job_id": "", "command": "", "container_id": "",
			"exit_code": gorm.Expr("NULL"), "started_at": gorm.Expr("NULL"), "finished_at": gorm.Expr("NULL")}).Error
	return translate(err, "steps of workflow "+id)
}

// PutSecret inserts a secret; with overwrite an existing one of the same name
// is replaced, else it is a conflict.
func (s *Store) PutSecret(ctx context.Context, sec Secret, overwrite bool) error {
	if sec.CreatedAt.IsZero() {
		sec.CreatedAt = s.Now()
	}
	q := s.db.WithContext(ctx)
	if overwrite {
		q = q.Clauses(clause.OnConflict{UpdateAll: true})
	}
	return translate(q.Create(&sec).Error, "secret "+sec.Name)
}

// Secrets returns the owner's secrets by name.
func (s *Store) Secrets(ctx context.Context, ownerID int64) ([]Secret, error) {
	var out []Secret
	err := s.db.WithContext(ctx).Where("owner_id = ?", ownerID).Order("name").Find(&out).Error
	return out, translate(err, "secrets")
}

// DeleteSecrets deletes the owner's secrets of these names and returns how
// many went.
func (s *Store) DeleteSecrets(ctx context.Context, ownerID int64, names []string) (int64, error) {
	res := s.db.WithContext(ctx).Where("owner_id = ? AND name IN ?", ownerID, names).Delete(&Secret{})
	return res.RowsAffected, translate(res.Error, "secrets")
}

// CacheEntryOf returns the owner's cache entry of key.
func (s *Store) CacheEntryOf(ctx context.Context, ownerID int64, key string) (CacheEntry, error) {
	var e CacheEntry
	err := s.db.WithContext(ctx).Where("owner_id = ? AND cache_key = ?", ownerID, key).Take(&e).Error
	return e, translate(err, "cache entry")
}

// PutCacheEntry inserts or replaces a cache entry.
func (s *Store) PutCacheEntry(ctx context.Context, e CacheEntry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.Now()
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&e).Error
	return translate(err, "cache entry")
}

// CacheOutputs returns the outputs (JSON maps of paths to blob digests) of
// every serial cache entry, for garbage collection.
func (s *Store) CacheOutputs(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Table("reana_cache").Pluck("outputs", &out).Error
	return out, translate(err, "list cache outputs")
}
