package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// errNoRows stands for an update or delete that matched nothing.
var errNoRows = gorm.ErrRecordNotFound

// Job is the row of one job of the engine (service/job). The store only
// persists it: which states exist and which changes are allowed is the
// engine's business, passed in as strings.
type Job struct {
	ID              string `gorm:"primaryKey"`
	Family          string
	Kind            string
	OwnerID         int64
	GroupID         *int64
	State           string
	Reason          string
	ProgressPercent int
	ProgressMessage string
	Attempt         int
	MaxAttempts     int
	Args            string
	LogDigest       string
	RiverJobID      int64
	CancelRequested bool
	// Keep spares the job from retention; KeepImage keeps its image after it packaged its output.
	Keep      bool
	KeepImage bool
	// RequestID is the id of the API request that submitted the job.
	RequestID string
	// Host is the worker host (job.Config.Host) that runs or last ran an attempt.
	Host        string
	HeartbeatAt *time.Time
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// JobStep is the row of one step of a job.
type JobStep struct {
	JobID      string `gorm:"primaryKey"`
	Position   int    `gorm:"primaryKey;autoIncrement:false"`
	Name       string
	State      string
	StartedAt  *time.Time
	FinishedAt *time.Time
	ExitCode   *int
	Error      string
	LogDigest  string
}

// JobOutput is the row of one named output blob of a job.
type JobOutput struct {
	JobID     string `gorm:"primaryKey"`
	Name      string `gorm:"primaryKey"`
	Digest    string
	Size      int64
	MediaType string
}

// JobUpdate lists the columns of a job to change; nil fields are left alone.
type JobUpdate struct {
	State           *string
	Reason          *string
	ProgressPercent *int
	ProgressMessage *string
	Attempt         *int
	LogDigest       *string
	RiverJobID      *int64
	CancelRequested *bool
	Host            *string
	HeartbeatAt     *time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
	// ClearFinished sets finished_at back to NULL (a job queued again).
	ClearFinished bool
	// WhereAttempt, when set, is a condition, not a change: the update only
	// applies while the job is in this attempt (a worker whose attempt was
	// taken over by another instance changes nothing).
	WhereAttempt *int
}

func (u JobUpdate) fields() map[string]any {
	f := map[string]any{}
	set := func(col string, ok bool, v any) {
		if ok {
			f[col] = v
		}
	}
	if u.State != nil {
		f["state"] = *u.State
	}
	if u.Reason != nil {
		f["reason"] = *u.Reason
	}
	if u.ProgressPercent != nil {
		f["progress_percent"] = *u.ProgressPercent
	}
	if u.ProgressMessage != nil {
		f["progress_message"] = *u.ProgressMessage
	}
	if u.Attempt != nil {
		f["attempt"] = *u.Attempt
	}
	if u.LogDigest != nil {
		f["log_digest"] = *u.LogDigest
	}
	if u.RiverJobID != nil {
		f["river_job_id"] = *u.RiverJobID
	}
	if u.CancelRequested != nil {
		f["cancel_requested"] = *u.CancelRequested
	}
	if u.Host != nil {
		f["host"] = *u.Host
	}
	set("heartbeat_at", u.HeartbeatAt != nil, u.HeartbeatAt)
	set("started_at", u.StartedAt != nil, u.StartedAt)
	set("finished_at", u.FinishedAt != nil, u.FinishedAt)
	if u.ClearFinished {
		f["finished_at"] = nil
	}
	return f
}

// CreateJob inserts j.
func (s *Store) CreateJob(ctx context.Context, j *Job) error {
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.Now()
	}
	return translate(s.db.WithContext(ctx).Create(j).Error, "job "+j.ID)
}

// JobByID returns a job regardless of owner (for workers).
func (s *Store) JobByID(ctx context.Context, id string) (Job, error) {
	var j Job
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&j).Error
	return j, translate(err, "job "+id)
}

// JobOf returns job id owned by ownerID; another user's job is not found.
func (s *Store) JobOf(ctx context.Context, ownerID int64, id string) (Job, error) {
	var j Job
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&j).Error
	return j, translate(err, "job "+id)
}

// JobsInState returns every job in one of the states, oldest first (for recovery).
func (s *Store) JobsInState(ctx context.Context, states ...string) ([]Job, error) {
	var js []Job
	err := s.db.WithContext(ctx).Where("state IN ?", states).Order("created_at, id").Find(&js).Error
	return js, translate(err, "list jobs by state")
}

// UpdateJob changes columns of job id, only while it is in one of the states
// from (any state when from is empty): a compare-and-set that makes two
// workers or instances racing for one job safe. A job in another state is a
// conflict; an unknown one is not found.
func (s *Store) UpdateJob(ctx context.Context, id string, from []string, u JobUpdate) error {
	q := s.db.WithContext(ctx).Model(&Job{}).Where("id = ?", id)
	if len(from) > 0 {
		q = q.Where("state IN ?", from)
	}
	if u.WhereAttempt != nil {
		q = q.Where("attempt = ?", *u.WhereAttempt)
	}
	res := q.Updates(u.fields())
	if res.Error != nil {
		return translate(res.Error, "job "+id)
	}
	if res.RowsAffected == 0 {
		j, err := s.JobByID(ctx, id)
		if err != nil {
			return err
		}
		return conflictf("job %s is %s in attempt %d, which does not allow this change", id, j.State, j.Attempt)
	}
	return nil
}

// JobSteps returns the steps of a job in order.
func (s *Store) JobSteps(ctx context.Context, jobID string) ([]JobStep, error) {
	var steps []JobStep
	err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Order("position").Find(&steps).Error
	return steps, translate(err, "steps of job "+jobID)
}

// ReplaceJobSteps sets the steps of a job to steps.
func (s *Store) ReplaceJobSteps(ctx context.Context, jobID string, steps []JobStep) error {
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Where("job_id = ?", jobID).Delete(&JobStep{}).Error; err != nil {
			return translate(err, "steps of job "+jobID)
		}
		if len(steps) == 0 {
			return nil
		}
		return translate(tx.db.WithContext(ctx).Create(&steps).Error, "steps of job "+jobID)
	})
}

// SaveJobStep writes one step (inserted or replaced by position).
func (s *Store) SaveJobStep(ctx context.Context, step JobStep) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&step).Error
	return translate(err, fmt.Sprintf("step %d of job %s", step.Position, step.JobID))
}

// JobOutputs returns the outputs of a job by name.
func (s *Store) JobOutputs(ctx context.Context, jobID string) ([]JobOutput, error) {
	var outs []JobOutput
	err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Order("name").Find(&outs).Error
	return outs, translate(err, "outputs of job "+jobID)
}

// PutJobOutput records (or replaces) a named output of a job.
func (s *Store) PutJobOutput(ctx context.Context, o JobOutput) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&o).Error
	return translate(err, fmt.Sprintf("output %s of job %s", o.Name, o.JobID))
}

// SQLTx returns the database/sql transaction a Store from InTx is bound to,
// so that River inserts its job in the same transaction as the domain rows
// (riverdatabasesql and riversqlite take a *sql.Tx). Outside InTx it fails.
func (s *Store) SQLTx() (*sql.Tx, error) {
	tx, ok := s.db.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("store: not in a transaction")
	}
	return tx, nil
}

// CountJobsByState counts the jobs of the given kinds per state.
func (s *Store) CountJobsByState(ctx context.Context, kinds []string) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	err := s.db.WithContext(ctx).Model(&Job{}).Select("state, COUNT(*) AS n").Where("kind IN ?", kinds).Group("state").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "count jobs")
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// JobCount is how many jobs of one kind are in one state.
type JobCount struct {
	Family, Kind, State string
	Count               int64
}

// JobCounts counts the jobs in each of the states by family and kind (for the
// queue depth gauges; the jobs_state_finished index covers the state).
func (s *Store) JobCounts(ctx context.Context, states ...string) ([]JobCount, error) {
	var out []JobCount
	err := s.db.WithContext(ctx).Model(&Job{}).Select("family, kind, state, COUNT(*) AS count").
		Where("state IN ?", states).Group("family, kind, state").Order("family, kind, state").Scan(&out).Error
	return out, translate(err, "count jobs by state")
}
