package auth

import "github.com/reehub/reehub/store"

// The user vocabulary callers of this service use; aliases of the store's
// types, so that the HTTP layer does not import the store.
type (
	// User is a person or robot that owns resources.
	User = store.User
	// Token is a personal API token (without its secret).
	Token = store.Token
	// Role is what a user may do.
	Role = store.Role
)

// Roles a user can have.
const (
	// RoleAdmin may manage users and everything a user may do.
	RoleAdmin = store.RoleAdmin
	// RoleUser may manage their own resources.
	RoleUser = store.RoleUser
)
