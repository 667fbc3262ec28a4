package store

import (
	"context"
	"time"
)

// Role is what a user may do.
type Role string

const (
	// RoleAdmin may manage users and everything a user may do.
	RoleAdmin Role = "admin"
	// RoleUser may manage their own resources.
	RoleUser Role = "user"
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleAdmin, RoleUser} }

// User is a person or robot that owns resources.
type User struct {
	ID           int64
	Name         string
	PasswordHash string
	Role         Role
	OIDCSubject  *string `gorm:"column:oidc_subject"`
	CreatedAt    time.Time
}

// CreateUser inserts u and sets its ID; a taken name is a conflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.CreatedAt = s.Now()
	return translate(s.db.WithContext(ctx).Create(u).Error, "user "+u.Name)
}

// UserByName returns the user with that name.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	var u User
	err := s.read().WithContext(ctx).Where("name = ?", name).Take(&u).Error
	return u, translate(err, "user "+name)
}

// UserByID returns the user with that ID.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.read().WithContext(ctx).Take(&u, id).Error
	return u, translate(err, "user")
}

// UserByOIDCSubject returns the user linked to an OIDC subject.
func (s *Store) UserByOIDCSubject(ctx context.Context, subject string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("oidc_subject = ?", subject).Take(&u).Error
	return u, translate(err, "user with OIDC subject "+subject)
}
