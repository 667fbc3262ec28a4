package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// namePattern is what a user or group name looks like (the spec's pattern).
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,63}$`)

// Password bounds, in characters.
const (
	minPassword = 8
	maxPassword = 256
)

func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return fault.Invalidf("%s name must be 2 to 64 characters: a lower-case letter, then lower-case letters, digits, '.', '_' or '-'", what)
	}
	return nil
}

func checkPasswordRules(pw string) error {
	if n := len([]rune(pw)); n < minPassword || n > maxPassword {
		return fault.Invalidf("password must be %d to %d characters", minPassword, maxPassword)
	}
	return nil
}

func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return fault.Invalidf("email is not an email address")
	}
	return nil
}

func checkFullName(name string) error {
	if len([]rune(name)) > 256 || strings.ContainsFunc(name, unicode.IsControl) {
		return fault.Invalidf("full name must be at most 256 characters without control characters")
	}
	return nil
}

func requireAdmin(by Principal, what string) error {
	if !by.Allows(ScopeAdmin) {
		return fault.New(fault.ErrForbidden, "only an admin may "+what)
	}
	return nil
}

// createAccount inserts a user with their default group (named after them) in
// one transaction; a taken user or group name is a conflict.
func (s *Service) createAccount(ctx context.Context, u *store.User) error {
	return s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		g := store.Group{Name: u.Name, PersonalUserID: &u.ID}
		if err := tx.CreateGroup(ctx, &g); err != nil {
			if errors.Is(err, fault.ErrConflict) {
				return fault.Conflictf("a group named %s already exists; the user's default group takes their name", u.Name)
			}
			return err
		}
		return tx.AddMember(ctx, g.ID, u.ID)
	})
}

// EnsureAdmin creates the user "admin" on first start. With an empty password
// one is generated and returned so that it can be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (generated string, created bool, err error) {
	if _, err := s.store.UserByName(ctx, "admin"); err == nil {
		return "", false, nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return "", false, fmt.Errorf("look up admin: %w", err)
	}
	if password == "" {
		password = randomString(12)
		generated = password
	}
	hash, err := hashPassword(password)
	if err != nil {
		return "", false, fmt.Errorf("hash admin password: %w", err)
	}
	u := store.User{Name: "admin", PasswordHash: hash, Role: store.RoleAdmin}
	if err := s.createAccount(ctx, &u); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return "", false, nil // another instance created it
		}
		return "", false, fmt.Errorf("create admin: %w", err)
	}
	return generated, true, nil
}

// NewUser describes a user to create.
type NewUser struct {
	// Name is the login name, also the name of the user's default group.
	Name string
	// Password is the password for Basic auth; empty for a token- or OIDC-only user.
	Password string
	// Role defaults to RoleUser.
	Role Role
	// Email is optional.
	Email string
	// FullName is optional.
	FullName string
}

// CreateUser creates a user with their default group; only admins may.
func (s *Service) CreateUser(ctx context.Context, by Principal, nu NewUser) (Account, error) {
	if err := requireAdmin(by, "create users"); err != nil {
		return Account{}, err
	}
	if nu.Role == "" {
		nu.Role = RoleUser
	}
	if !slices.Contains(Roles(), nu.Role) {
		return Account{}, fault.Invalidf("unknown role %q", nu.Role)
	}
	if err := errors.Join(checkName("user", nu.Name), checkEmail(nu.Email), checkFullName(nu.FullName)); err != nil {
		return Account{}, err
	}
	u := store.User{Name: nu.Name, Role: store.Role(nu.Role), Email: nu.Email, FullName: nu.FullName}
	if nu.Password != "" {
		if err := checkPasswordRules(nu.Password); err != nil {
			return Account{}, err
		}
		hash, err := hashPassword(nu.Password)
		if err != nil {
			return Account{}, err
		}
		u.PasswordHash = hash
	}
	if err := s.createAccount(ctx, &u); err != nil {
		return Account{}, err
	}
	return Account{User: toUser(u), DefaultGroup: u.Name, Groups: []string{u.Name}}, nil
}

// Me returns the principal's user with their groups.
func (s *Service) Me(ctx context.Context, by Principal) (Account, error) {
	accs, err := s.accounts(ctx, []User{by.User})
	if err != nil {
		return Account{}, err
	}
	return accs[0], nil
}

// Users lists every user by name; only admins may.
func (s *Service) Users(ctx context.Context, by Principal) ([]Account, error) {
	if err := requireAdmin(by, "list users"); err != nil {
		return nil, err
	}
	rows, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	us := make([]User, len(rows))
	for i, r := range rows {
		us[i] = toUser(r)
	}
	return s.accounts(ctx, us)
}

// User returns one user by UUID; only admins may.
func (s *Service) User(ctx context.Context, by Principal, id string) (Account, error) {
	if err := requireAdmin(by, "read other users"); err != nil {
		return Account{}, err
	}
	u, err := s.store.UserByUUID(ctx, id)
	if err != nil {
		return Account{}, err
	}
	accs, err := s.accounts(ctx, []User{toUser(u)})
	if err != nil {
		return Account{}, err
	}
	return accs[0], nil
}

// accounts adds the group names to users.
func (s *Service) accounts(ctx context.Context, us []User) ([]Account, error) {
	if len(us) == 0 {
		return []Account{}, nil
	}
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	ms, err := s.store.MembershipsOfUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	groups := map[int64][]string{}
	personal := map[int64]string{}
	for _, m := range ms {
		groups[m.UserID] = append(groups[m.UserID], m.GroupName)
		if m.PersonalUserID != nil && *m.PersonalUserID == m.UserID {
			personal[m.UserID] = m.GroupName
		}
	}
	out := make([]Account, len(us))
	for i, u := range us {
		gs := groups[u.ID]
		if gs == nil {
			gs = []string{}
		}
		out[i] = Account{User: u, DefaultGroup: personal[u.ID], Groups: gs}
	}
	return out, nil
}

// UserUpdate lists the fields of a user to change; nil fields keep their value.
type UserUpdate struct {
	// Email replaces the email address; "" clears it.
	Email *string
	// FullName replaces the full name.
	FullName *string
	// Role replaces the role.
	Role *Role
	// Password replaces the password.
	Password *string
	// Disabled disables (and revokes the tokens of) or enables the user.
	Disabled *bool
}

// UpdateUser changes a user; only admins may, and not their own role or
// disabled flag (so that a server keeps an admin).
func (s *Service) UpdateUser(ctx context.Context, by Principal, id string, up UserUpdate) (Account, error) {
	if err := requireAdmin(by, "change users"); err != nil {
		return Account{}, err
	}
	u, err := s.store.UserByUUID(ctx, id)
	if err != nil {
		return Account{}, err
	}
	if up.Email != nil {
		if err := checkEmail(*up.Email); err != nil {
			return Account{}, err
		}
		u.Email = *up.Email
	}
	if up.FullName != nil {
		if err := checkFullName(*up.FullName); err != nil {
			return Account{}, err
		}
		u.FullName = *up.FullName
	}
	if up.Role != nil {
		if !slices.Contains(Roles(), *up.Role) {
			return Account{}, fault.Invalidf("unknown role %q", *up.Role)
		}
		if u.ID == by.User.ID && *up.Role != RoleAdmin {
			return Account{}, fault.Conflictf("you cannot take the admin role from yourself")
		}
		u.Role = store.Role(*up.Role)
	}
	if up.Password != nil {
		if err := checkPasswordRules(*up.Password); err != nil {
			return Account{}, err
		}
		if u.PasswordHash, err = hashPassword(*up.Password); err != nil {
			return Account{}, err
		}
	}
	revoke := false
	if up.Disabled != nil {
		if u.ID == by.User.ID && *up.Disabled {
			return Account{}, fault.Conflictf("you cannot disable yourself")
		}
		revoke = *up.Disabled && !u.Disabled
		u.Disabled = *up.Disabled
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if revoke {
			return tx.DeleteTokensOf(ctx, u.ID)
		}
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	s.forgetLogins()
	accs, err := s.accounts(ctx, []User{toUser(u)})
	if err != nil {
		return Account{}, err
	}
	return accs[0], nil
}

// DisableUser disables a user and revokes their tokens; only admins may. The
// user row stays so that their resources keep their owner.
func (s *Service) DisableUser(ctx context.Context, by Principal, id string) error {
	yes := true
	_, err := s.UpdateUser(ctx, by, id, UserUpdate{Disabled: &yes})
	return err
}

// Register creates a user (role user) without an admin: the self-service
// registration of the ViCE API, which the server opens only when configured.
func (s *Service) Register(ctx context.Context, nu NewUser) (Account, error) {
	nu.Role = RoleUser
	return s.CreateUser(ctx, Principal{User: User{Role: RoleAdmin}, Scopes: []Scope{ScopeAdmin}}, nu)
}
