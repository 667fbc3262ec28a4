package store

import (
	"context"
	"time"

	"github.com/google/uuid"
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
	ID   int64
	UUID string `gorm:"column:uuid"`
	Name string
	// PasswordHash is the encoded password hash (service/auth decides the
	// scheme); empty when the user has no password.
	PasswordHash string
	Email        string
	FullName     string
	Role         Role
	Disabled     bool
	OIDCSubject  *string `gorm:"column:oidc_subject"`
	CreatedAt    time.Time
}

// CreateUser inserts u and sets its ID (and its UUID when empty); a taken name is a conflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.CreatedAt = s.Now()
	if u.UUID == "" {
		u.UUID = uuid.NewString()
	}
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

// UserByUUID returns the user with that UUID.
func (s *Store) UserByUUID(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("uuid = ?", id).Take(&u).Error
	return u, translate(err, "user "+id)
}

// UserByOIDCSubject returns the user linked to an OIDC subject.
func (s *Store) UserByOIDCSubject(ctx context.Context, subject string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("oidc_subject = ?", subject).Take(&u).Error
	return u, translate(err, "user with OIDC subject "+subject)
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var us []User
	err := s.db.WithContext(ctx).Order("name").Find(&us).Error
	return us, translate(err, "users")
}

// UpdateUser writes the changeable fields of u (email, full name, role,
// password hash, disabled) to the user with u's ID.
func (s *Store) UpdateUser(ctx context.Context, u User) error {
	res := s.db.WithContext(ctx).Model(&User{ID: u.ID}).
		Select("email", "full_name", "role", "password_hash", "disabled").Updates(&u)
	if res.Error != nil {
		return translate(res.Error, "user "+u.Name)
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "user "+u.Name)
	}
	return nil
}

// SetPasswordHash replaces the password hash of a user (a rehash on login).
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return translate(s.db.WithContext(ctx).Model(&User{}).Where("id = ?", userID).Update("password_hash", hash).Error, "user")
}
