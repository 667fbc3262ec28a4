package studio

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/apt"
	"github.com/reehub/reehub/store"
)

// Repository is a Debian archive (or the user's local archive, type deb-local).
type Repository struct {
	ID                     int64
	OwnerID                *int64
	Name, Type, BaseSystem string
	BaseURL, Suite         string
	Components             []string
}

// userRepoType is the type of a user's local archive of uploaded packages.
const userRepoType = "deb-local"

func repoFromRow(r store.StudioRepository) Repository {
	return Repository{ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Type: r.Type, BaseSystem: r.BaseSystem, BaseURL: r.BaseURL,
		Suite: r.Suite, Components: strings.Fields(r.Components)}
}

// Repositories lists the known repositories, optionally of one base system
// and matching filter (name, URL or a package of the archive).
func (s *Service) Repositories(ctx context.Context, ownerID int64, baseSystem, filter string) ([]Repository, error) {
	rows, err := s.store.StudioRepositories(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	var out []Repository
	for _, r := range rows {
		repo := repoFromRow(r)
		if baseSystem != "" && repo.BaseSystem != baseSystem {
			continue
		}
		if filter != "" && !strings.Contains(strings.ToLower(repo.Name+" "+repo.BaseURL), strings.ToLower(filter)) {
			u, err := s.universe(ctx, ownerID, []Repository{repo}, "amd64")
			if err != nil {
				return nil, err
			}
			if _, ok := u.Find(filter, ""); !ok {
				continue
			}
		}
		out = append(out, repo)
	}
	return out, nil
}

// Repository returns one repository.
func (s *Service) Repository(ctx context.Context, ownerID, id int64) (Repository, error) {
	r, err := s.store.StudioRepositoryOf(ctx, ownerID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return Repository{}, notFound("invalid_repository_id", "repository %d not found", id)
	}
	return repoFromRow(r), err
}

// Import adds a Debian archive by URL: the archive root followed by
// /dists/<suite> (bookworm when absent). Its signed InRelease is verified
// and its Packages read; unsigned or unreachable archives are refused.
func (s *Service) Import(ctx context.Context, ownerID int64, rawURL, name string) (Repository, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Repository{}, invalid("invalid_request", "url %q is not an http(s) URL of a Debian archive", rawURL)
	}
	base, suite := strings.TrimSuffix(rawURL, "/"), Basesystem
	if i := strings.Index(base, "/dists/"); i >= 0 {
		base, suite = base[:i], base[i+len("/dists/"):]
	}
	rel, err := s.apt.FetchRelease(ctx, base, suite)
	if err != nil {
		return Repository{}, coded("download_error", err)
	}
	comps := rel.Components
	if len(comps) == 0 {
		return Repository{}, invalid("download_error", "%s/dists/%s lists no components", base, suite)
	}
	for _, c := range comps {
		if _, err := s.apt.Packages(ctx, base, suite, c, "amd64"); err != nil {
			return Repository{}, coded("download_error", err)
		}
	}
	if name == "" {
		name = base + " " + suite
	}
	row := store.StudioRepository{OwnerID: &ownerID, Name: name, Type: "deb", BaseSystem: Basesystem, BaseURL: base, Suite: suite,
		Components: strings.Join(comps, " "), CreatedAt: time.Now().UTC()}
	if err := s.store.CreateStudioRepository(ctx, &row); err != nil {
		return Repository{}, err
	}
	return repoFromRow(row), nil
}

// ApplianceRepositories lists the repositories of an appliance.
func (s *Service) ApplianceRepositories(ctx context.Context, ownerID, id int64) ([]Repository, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	return s.reposOf(ctx, ownerID, a)
}

func (s *Service) reposOf(ctx context.Context, ownerID int64, a Appliance) ([]Repository, error) {
	out := make([]Repository, 0, len(a.RepositoryIDs))
	for _, id := range a.RepositoryIDs {
		r, err := s.Repository(ctx, ownerID, id)
		if err != nil {
			continue // a repository that is gone
		}
		out = append(out, r)
	}
	return out, nil
}

// SetRepositories replaces the repositories of an appliance by ids.
func (s *Service) SetRepositories(ctx context.Context, ownerID, id int64, ids []int64) ([]Repository, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	var keep []int64
	for _, rid := range ids {
		if _, err := s.Repository(ctx, ownerID, rid); err != nil {
			return nil, err
		}
		if !slices.Contains(keep, rid) {
			keep = append(keep, rid)
		}
	}
	a.RepositoryIDs = keep
	if err := s.save(ctx, &a); err != nil {
		return nil, err
	}
	return s.reposOf(ctx, ownerID, a)
}

// AddRepository adds a repository to an appliance.
func (s *Service) AddRepository(ctx context.Context, ownerID, id, repoID int64) ([]Repository, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	return s.SetRepositories(ctx, ownerID, id, append(a.RepositoryIDs, repoID))
}

// RemoveRepository removes a repository from an appliance.
func (s *Service) RemoveRepository(ctx context.Context, ownerID, id, repoID int64) ([]Repository, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	if _, err := s.Repository(ctx, ownerID, repoID); err != nil {
		return nil, err
	}
	return s.SetRepositories(ctx, ownerID, id, slices.DeleteFunc(a.RepositoryIDs, func(r int64) bool { return r == repoID }))
}

// AddUserRepository adds the user's local archive of uploaded packages.
func (s *Service) AddUserRepository(ctx context.Context, ownerID, id int64) ([]Repository, error) {
	rows, err := s.store.StudioRepositories(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	var repoID int64
	for _, r := range rows {
		if r.Type == userRepoType && r.OwnerID != nil && *r.OwnerID == ownerID {
			repoID = r.ID
		}
	}
	if repoID == 0 {
		row := store.StudioRepository{OwnerID: &ownerID, Name: "User repository", Type: userRepoType, BaseSystem: Basesystem,
			BaseURL: "file:/opt/reehub/userrepo", Suite: "./", Components: "", CreatedAt: time.Now().UTC()}
		if err := s.store.CreateStudioRepository(ctx, &row); err != nil {
			return nil, err
		}
		repoID = row.ID
	}
	return s.AddRepository(ctx, ownerID, id, repoID)
}

// universe reads the indexes of repos for a Debian architecture.
func (s *Service) universe(ctx context.Context, ownerID int64, repos []Repository, arch string) (*apt.Universe, error) {
	var lists [][]apt.Package
	for _, r := range repos {
		if r.Type == userRepoType {
			rpms, err := s.store.StudioRpms(ctx, ownerID, r.BaseSystem)
			if err != nil {
				return nil, err
			}
			var l []apt.Package
			for _, p := range rpms {
				par, err := paragraphOf(p.Control)
				if err != nil {
					continue
				}
				if a := par.Get("Architecture"); a != "all" && a != arch {
					continue
				}
				l = append(l, apt.FromParagraph(par, repoKey(r.ID)))
			}
			lists = append(lists, l)
			continue
		}
		for _, c := range r.Components {
			l, err := s.apt.Packages(ctx, r.BaseURL, r.Suite, c, arch)
			if err != nil {
				return nil, coded("download_error", err)
			}
			tagged := make([]apt.Package, len(l))
			for i, p := range l {
				p.Origin = repoKey(r.ID)
				tagged[i] = p
			}
			lists = append(lists, tagged)
		}
	}
	return apt.NewUniverse(lists...), nil
}

func repoKey(id int64) string { return fmt.Sprint(id) }

// inBase reports the packages the templates' base system already has (what
// debootstrap's minbase installs: priority required, essential, apt, and
// their dependencies).
func inBase(u *apt.Universe) func(string) bool {
	base := u.Base()
	return func(name string) bool { return base[name] }
}

// patternPackage maps a pattern (a tasksel task) to its metapackage.
func patternPackage(u *apt.Universe, name string) (string, bool) {
	for _, cand := range []string{"task-" + name, name} {
		if p, ok := u.Find(cand, ""); ok && (strings.HasPrefix(p.Name, "task-") || strings.Contains(strings.ToLower(p.Summary), "metapackage")) {
			return p.Name, true
		}
	}
	return "", false
}

// Software is an appliance's selection.
type Software struct {
	Packages []Package
	Patterns []string
}

// Software returns the selection of an appliance.
func (s *Service) Software(ctx context.Context, ownerID, id int64) (Software, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	return Software{Packages: a.Packages, Patterns: a.Patterns}, err
}

// Change is the result of a software command.
type Change struct {
	Changed        bool
	Added, Removed []string
}

type resolved struct {
	a    Appliance
	u    *apt.Universe
	res  apt.Resolution
	arch string
}

func (s *Service) resolve(ctx context.Context, ownerID int64, a Appliance) (resolved, error) {
	arch, err := archOf(a.Arch)
	if err != nil {
		return resolved{}, err
	}
	repos, err := s.reposOf(ctx, ownerID, a)
	if err != nil {
		return resolved{}, err
	}
	u, err := s.universe(ctx, ownerID, repos, arch)
	if err != nil {
		return resolved{}, err
	}
	wants := make([]apt.Want, 0, len(a.Packages)+len(a.Patterns))
	for _, p := range a.Packages {
		wants = append(wants, apt.Want{Name: p.Name, Version: p.Version})
	}
	for _, pt := range a.Patterns {
		if meta, ok := patternPackage(u, pt); ok {
			wants = append(wants, apt.Want{Name: meta})
		}
	}
	return resolved{a: a, u: u, res: u.Resolve(wants, inBase(u)), arch: arch}, nil
}

// SetSoftware replaces the selection after checking that every package
// (and version) is in the repositories and every pattern is known.
func (s *Service) SetSoftware(ctx context.Context, ownerID, id int64, sw Software) (Change, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return Change{}, err
	}
	before, err := s.resolve(ctx, ownerID, a)
	if err != nil {
		return Change{}, err
	}
	for _, p := range sw.Packages {
		if err := checkPackage(before.u, p); err != nil {
			return Change{}, err
		}
	}
	for _, pt := range sw.Patterns {
		if _, ok := patternPackage(before.u, pt); !ok {
			return Change{}, invalid("invalid_name", "pattern %q is not a Debian task or metapackage of the appliance's repositories", pt)
		}
	}
	a.Packages, a.Patterns = dedupe(sw.Packages), uniq(sw.Patterns)
	after, err := s.resolve(ctx, ownerID, a)
	if err != nil {
		return Change{}, err
	}
	if err := s.save(ctx, &a); err != nil {
		return Change{}, err
	}
	return diff(before.res, after.res), nil
}

func checkPackage(u *apt.Universe, p Package) error {
	if !validName(p.Name) {
		return invalid("invalid_name", "%q is not a Debian package name", p.Name)
	}
	if len(u.Versions(p.Name)) == 0 {
		return invalid("invalid_name", "package %s is in no repository of the appliance", p.Name)
	}
	if _, ok := u.Find(p.Name, p.Version); !ok {
		return invalid("invalid_version", "package %s has no version %s in the repositories of the appliance", p.Name, p.Version)
	}
	return nil
}

func validName(n string) bool {
	if len(n) < 2 || len(n) > 128 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func dedupe(ps []Package) []Package {
	var out []Package
	for _, p := range ps {
		out = slices.DeleteFunc(out, func(q Package) bool { return q.Name == p.Name })
		out = append(out, p)
	}
	return out
}

func uniq(ss []string) []string {
	var out []string
	for _, x := range ss {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func diff(before, after apt.Resolution) Change {
	b, a := map[string]bool{}, map[string]bool{}
	for _, p := range before.Packages {
		b[p.Name] = true
	}
	for _, p := range after.Packages {
		a[p.Name] = true
	}
	var c Change
	for n := range a {
		if !b[n] {
			c.Added = append(c.Added, n)
		}
	}
	for n := range b {
		if !a[n] {
			c.Removed = append(c.Removed, n)
		}
	}
	slices.Sort(c.Added)
	slices.Sort(c.Removed)
	c.Changed = len(c.Added)+len(c.Removed) > 0
	return c
}

// AddPackage adds a package (optionally at a version).
func (s *Service) AddPackage(ctx context.Context, ownerID, id int64, name, version string) (Change, error) {
	sw, err := s.Software(ctx, ownerID, id)
	if err != nil {
		return Change{}, err
	}
	sw.Packages = append(sw.Packages, Package{Name: name, Version: version})
	return s.SetSoftware(ctx, ownerID, id, sw)
}

// RemovePackage removes a package.
func (s *Service) RemovePackage(ctx context.Context, ownerID, id int64, name string) (Change, error) {
	sw, err := s.Software(ctx, ownerID, id)
	if err != nil {
		return Change{}, err
	}
	n := len(sw.Packages)
	sw.Packages = slices.DeleteFunc(sw.Packages, func(p Package) bool { return p.Name == name })
	if len(sw.Packages) == n {
		return Change{}, invalid("invalid_name", "package %s is not selected", name)
	}
	return s.SetSoftware(ctx, ownerID, id, sw)
}

// AddPattern adds a pattern.
func (s *Service) AddPattern(ctx context.Context, ownerID, id int64, name string) (Change, error) {
	sw, err := s.Software(ctx, ownerID, id)
	if err != nil {
		return Change{}, err
	}
	sw.Patterns = append(sw.Patterns, name)
	return s.SetSoftware(ctx, ownerID, id, sw)
}

// RemovePattern removes a pattern.
func (s *Service) RemovePattern(ctx context.Context, ownerID, id int64, name string) (Change, error) {
	sw, err := s.Software(ctx, ownerID, id)
	if err != nil {
		return Change{}, err
	}
	n := len(sw.Patterns)
	sw.Patterns = slices.DeleteFunc(sw.Patterns, func(p string) bool { return p == name })
	if len(sw.Patterns) == n {
		return Change{}, invalid("invalid_name", "pattern %s is not selected", name)
	}
	return s.SetSoftware(ctx, ownerID, id, sw)
}

// Found is a package found in (or installed from) a repository.
type Found struct {
	RepositoryID        int64
	Name, Version, Arch string
	Summary, SHA256     string
}

// RepoSoftware is the software of one repository.
type RepoSoftware struct {
	Repository Repository
	Packages   []Found
	Patterns   []string
}

// Search searches the appliance's repositories (all known with allRepos).
func (s *Service) Search(ctx context.Context, ownerID, id int64, q string, allFields, allRepos bool) ([]RepoSoftware, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	arch, err := archOf(a.Arch)
	if err != nil {
		return nil, err
	}
	repos, err := s.reposOf(ctx, ownerID, a)
	if allRepos {
		repos, err = s.Repositories(ctx, ownerID, a.Basesystem, "")
	}
	if err != nil {
		return nil, err
	}
	var out []RepoSoftware
	for _, r := range repos {
		u, err := s.universe(ctx, ownerID, []Repository{r}, arch)
		if err != nil {
			return nil, err
		}
		rs := RepoSoftware{Repository: r}
		for _, p := range u.Search(q, allFields) {
			rs.Packages = append(rs.Packages, Found{RepositoryID: r.ID, Name: p.Name, Version: p.Version, Arch: p.Arch, Summary: p.Summary, SHA256: p.SHA256})
		}
		out = append(out, rs)
	}
	return out, nil
}

// Installed lists what the next build installs (the selection and its
// dependencies), by repository.
func (s *Service) Installed(ctx context.Context, ownerID, id int64) ([]RepoSoftware, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, ownerID, a)
	if err != nil {
		return nil, err
	}
	repos, err := s.reposOf(ctx, ownerID, a)
	if err != nil {
		return nil, err
	}
	var out []RepoSoftware
	for _, repo := range repos {
		rs := RepoSoftware{Repository: repo}
		for _, p := range r.res.Packages {
			if p.Origin == repoKey(repo.ID) {
				rs.Packages = append(rs.Packages, Found{RepositoryID: repo.ID, Name: p.Name, Version: p.Version, Arch: p.Arch, Summary: p.Summary, SHA256: p.SHA256})
			}
		}
		if len(rs.Packages) > 0 {
			out = append(out, rs)
		}
	}
	if len(out) > 0 {
		out[0].Patterns = a.Patterns
	}
	return out, nil
}

// Issue is a problem of an appliance that would break its build.
type Issue struct {
	Type, Text                    string
	SolutionType, SolutionPackage string
}

// Status reports the appliance's issues: missing packages or versions,
// unsatisfiable dependencies, conflicts, overlay paths that escape the root.
func (s *Service) Status(ctx context.Context, ownerID, id int64) ([]Issue, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	if _, err := archOf(a.Arch); err == nil {
		r, err := s.resolve(ctx, ownerID, a)
		if err != nil {
			return nil, err
		}
		for _, p := range r.res.Problems {
			is := Issue{Type: "error", Text: p.Text, SolutionPackage: p.Package}
			switch p.Kind {
			case "missing", "conflict":
				is.SolutionType = "remove"
			default:
				is.SolutionType = "add_repository"
			}
			issues = append(issues, is)
		}
		for _, pt := range a.Patterns {
			if _, ok := patternPackage(r.u, pt); !ok {
				issues = append(issues, Issue{Type: "error", Text: fmt.Sprintf("pattern %s is in no repository of the appliance", pt), SolutionType: "remove", SolutionPackage: pt})
			}
		}
	}
	files, err := s.store.StudioFiles(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := overlayPath(f.Path, f.Filename); err != nil {
			issues = append(issues, Issue{Type: "error", Text: fmt.Sprintf("overlay file %d: %v", f.ID, err)})
		}
	}
	return issues, nil
}
