package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/reehub/reehub/store"
)

const (
	// logFlushEvery is how often a running attempt's new log bytes go to
	// the database, where every instance reads them.
	logFlushEvery = 500 * time.Millisecond
	// logChunkMax is the largest chunk of a log written as one row.
	logChunkMax = 64 << 10
	// logBufferMax is how much unrecorded log a writer holds before it
	// records it at once (while the database is slow or away).
	logBufferMax = 1 << 20
	// logPageChunks is how many chunks a reader reads in one query.
	logPageChunks = 32
)

// liveLog is the log of a running attempt. Every byte goes to the job's log
// file on this host (which becomes the log's blob when the job ends, and which
// steps copy into outputs) and, every logFlushEvery in chunks, to the
// database, from which every instance reads and follows the log while the job
// runs (OpenLog).
type liveLog struct {
	f   *os.File
	st  *store.Store
	log *slog.Logger
	id  string

	flushMu sync.Mutex // one flush at a time, so that chunks are written in order
	mu      sync.Mutex // buf and pos
	buf     []byte     // written to the file, not yet to the database
	pos     int64      // offset of buf[0] in the log

	stop chan struct{}
	done chan struct{}
}

// openLiveLog opens the log of job id for an attempt on this host. The file
// and the database first agree: what the database has beyond the file (an
// earlier attempt on another host, a recovery note written by another
// instance) is appended to the file, and what the file has beyond the
// database (this host stopped before recording it) is recorded.
func (e *Engine) openLiveLog(ctx context.Context, id string) (*liveLog, error) {
	f, err := os.OpenFile(e.logPath(id), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open the log of job %s: %w", id, err)
	}
	l := &liveLog{f: f, st: e.store, log: e.log, id: id, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.reconcile(ctx); err != nil {
		_ = f.Close()
		return nil, err
	}
	go l.flusher()
	return l, nil
}

func (l *liveLog) reconcile(ctx context.Context) error {
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("log of job %s: %w", l.id, err)
	}
	size := fi.Size()
	recorded, err := l.st.JobLogSize(ctx, l.id)
	if err != nil {
		return err
	}
	switch {
	case recorded > size:
		r := &chunkReader{ctx: ctx, st: l.st, id: l.id, next: size}
		if _, err := io.Copy(l.f, r); err != nil {
			return fmt.Errorf("copy the recorded log of job %s into its file: %w", l.id, err)
		}
		l.pos = recorded
	case size > recorded:
		buf := make([]byte, logChunkMax)
		for pos := recorded; pos < size; {
			n, err := l.f.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
			if n > 0 {
				if err := l.st.AppendJobLog(ctx, l.id, pos, buf[:n]); err != nil {
					return err
				}
				pos += int64(n)
			}
			if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
				return fmt.Errorf("read the log file of job %s: %w", l.id, err)
			}
		}
		l.pos = size
	default:
		l.pos = size
	}
	return nil
}

// Write writes p to the log file and keeps it for the database.
func (l *liveLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.f.Write(p)
	l.buf = append(l.buf, p[:n]...)
	full := len(l.buf) >= logBufferMax
	l.mu.Unlock()
	if full {
		l.flush()
	}
	return n, err
}

func (l *liveLog) flusher() {
	defer close(l.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.flush()
		}
	}
}

// flush records what was written since the last flush. What the database
// refuses stays for the next one.
func (l *liveLog) flush() {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	data, pos := l.buf, l.pos
	l.buf, l.pos = nil, l.pos+int64(len(data))
	l.mu.Unlock()
	for len(data) > 0 {
		n := min(len(data), logChunkMax)
		if err := l.st.AppendJobLog(context.Background(), l.id, pos, data[:n]); err != nil {
			l.log.Warn("record the log of a running job", "job", l.id, "err", err)
			l.mu.Lock()
			l.buf, l.pos = append(data, l.buf...), pos
			l.mu.Unlock()
			return
		}
		data, pos = data[n:], pos+int64(n)
	}
}

// Close records what is left and closes the file.
func (l *liveLog) Close() error {
	close(l.stop)
	<-l.done
	l.flush()
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close the log of job %s: %w", l.id, err)
	}
	return nil
}

// appendLogNote adds a line to the log of job id, which no attempt writes
// now: to its file if it is on this host (after the file and the record
// agree) and to the recorded log.
func (e *Engine) appendLogNote(ctx context.Context, id, line string) {
	err := func() error {
		if _, err := os.Stat(e.logPath(id)); err == nil {
			l, err := e.openLiveLog(ctx, id)
			if err != nil {
				return err
			}
			_, werr := io.WriteString(l, line)
			return errors.Join(werr, l.Close())
		}
		size, err := e.store.JobLogSize(ctx, id)
		if err != nil {
			return err
		}
		return e.store.AppendJobLog(ctx, id, size, []byte(line))
	}()
	if err != nil {
		e.log.Warn("note in the log of a job", "job", id, "err", err)
	}
}

// chunkReader reads the recorded log of a job from byte offset next on,
// a page of chunks at a time, until its end as recorded when it gets there
// (or a gap: a chunk that is not recorded yet).
type chunkReader struct {
	ctx     context.Context
	st      *store.Store
	id      string
	next    int64 // the log offset of the next byte to return
	cur     []byte
	pending []store.JobLogChunk
	last    bool // pending is the last page
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if len(r.pending) == 0 {
			if r.last {
				return 0, io.EOF
			}
			page, err := r.st.JobLogChunks(r.ctx, r.id, r.next, logPageChunks)
			if err != nil {
				return 0, err
			}
			r.pending, r.last = page, len(page) < logPageChunks
			if len(page) == 0 {
				return 0, io.EOF
			}
		}
		c := r.pending[0]
		r.pending = r.pending[1:]
		if c.Pos > r.next {
			r.pending, r.last = nil, true // a gap: the log ends here for now
			return 0, io.EOF
		}
		r.cur = c.Data[r.next-c.Pos:]
		r.next = c.Pos + int64(len(c.Data))
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close ends the reader.
func (r *chunkReader) Close() error { return nil }

// openRecordedLog returns a reader of the recorded log of job id, or nil
// when nothing of it is recorded.
func (e *Engine) openRecordedLog(ctx context.Context, id string) (io.ReadCloser, error) {
	r := &chunkReader{ctx: ctx, st: e.store, id: id}
	page, err := e.store.JobLogChunks(ctx, id, 0, logPageChunks)
	if err != nil {
		return nil, err
	}
	if len(page) == 0 {
		return nil, nil
	}
	r.pending, r.last = page, len(page) < logPageChunks
	return r, nil
}
