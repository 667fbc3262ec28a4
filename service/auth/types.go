package auth

import (
	"time"

	"github.com/reehub/reehub/store"
)

// Role is what a user may do.
type Role string

const (
	// RoleAdmin may manage users and groups and everything a user may do.
	RoleAdmin Role = "admin"
	// RoleUser may manage their own resources.
	RoleUser Role = "user"
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleAdmin, RoleUser} }

// User is a person or robot that owns resources. It carries no credential.
type User struct {
	// ID is the internal numeric id, which owner columns of other domains reference.
	ID int64
	// UUID is the stable identifier the API shows.
	UUID string
	// Name is the login name (the user name of HTTP Basic).
	Name string
	// Email is the email address; empty when unknown.
	Email string
	// FullName is the full name; empty when unknown.
	FullName string
	// Role is what the user may do.
	Role Role
	// Disabled users cannot authenticate.
	Disabled bool
	// HasPassword says whether the user can log in with a password.
	HasPassword bool
	// CreatedAt is when the user was created.
	CreatedAt time.Time
}

// Account is a user with the names of their groups.
type Account struct {
	User
	// DefaultGroup is the name of the user's default group (named after them).
	DefaultGroup string
	// Groups are the names of every group the user is a member of, by name.
	Groups []string
}

// Group is a set of users; resources of other domains can belong to one.
type Group struct {
	// ID is the internal numeric id, which group columns of other domains reference.
	ID int64
	// UUID is the stable identifier the API shows.
	UUID string
	// Name is the group's name, the value of FOSSology's groupName header.
	Name string
	// Personal says the group is a user's default group.
	Personal bool
	// Members are the group's members by name.
	Members []Member
	// CreatedAt is when the group was created.
	CreatedAt time.Time
}

// Member is a user as a member of a group.
type Member struct {
	// UUID is the user's UUID.
	UUID string
	// Name is the user's login name.
	Name string
}

// Token is a personal API token, without its secret or hash.
type Token struct {
	// ID identifies the token among its user's tokens.
	ID int64
	// Name is what the user called the token.
	Name string
	// Prefix is the first characters of the secret, to recognise it.
	Prefix string
	// Scopes are what the token allows.
	Scopes []Scope
	// CreatedAt is when the token was created.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
	// LastUsedAt is about when the token was last used (recorded at most once a minute); nil if never.
	LastUsedAt *time.Time
}

func toUser(u store.User) User {
	return User{
		ID: u.ID, UUID: u.UUID, Name: u.Name, Email: u.Email, FullName: u.FullName, Role: Role(u.Role),
		Disabled: u.Disabled, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt,
	}
}

func toToken(t store.Token) Token {
	return Token{
		ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: parseScopes(t.Scopes),
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt,
	}
}

func toGroup(g store.Group, members []Member) Group {
	if members == nil {
		members = []Member{}
	}
	return Group{ID: g.ID, UUID: g.UUID, Name: g.Name, Personal: g.PersonalUserID != nil, Members: members, CreatedAt: g.CreatedAt}
}
