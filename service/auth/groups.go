package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// CreateGroup creates a group without members; only admins may.
func (s *Service) CreateGroup(ctx context.Context, by Principal, name string) (Group, error) {
	if err := requireAdmin(by, "create groups"); err != nil {
		return Group{}, err
	}
	if err := checkName("group", name); err != nil {
		return Group{}, err
	}
	g := store.Group{Name: name}
	if err := s.store.CreateGroup(ctx, &g); err != nil {
		return Group{}, err
	}
	return toGroup(g, nil), nil
}

// Groups lists groups by name with their members: every group for an admin,
// the groups the user is a member of otherwise.
func (s *Service) Groups(ctx context.Context, by Principal) ([]Group, error) {
	var (
		gs  []store.Group
		err error
	)
	if by.Allows(ScopeAdmin) {
		gs, err = s.store.Groups(ctx)
	} else {
		gs, err = s.store.GroupsOf(ctx, by.User.ID)
	}
	if err != nil {
		return nil, err
	}
	return s.withMembers(ctx, gs)
}

// Group returns one group by UUID with its members. A group the principal is
// not a member of is not found, unless the principal is an admin.
func (s *Service) Group(ctx context.Context, by Principal, id string) (Group, error) {
	g, err := s.visibleGroup(ctx, by, id)
	if err != nil {
		return Group{}, err
	}
	out, err := s.withMembers(ctx, []store.Group{g})
	if err != nil {
		return Group{}, err
	}
	return out[0], nil
}

func (s *Service) visibleGroup(ctx context.Context, by Principal, id string) (store.Group, error) {
	g, err := s.store.GroupByUUID(ctx, id)
	if err != nil {
		return store.Group{}, err
	}
	if by.Allows(ScopeAdmin) {
		return g, nil
	}
	in, err := s.store.IsMember(ctx, g.ID, by.User.ID)
	if err != nil {
		return store.Group{}, err
	}
	if !in {
		return store.Group{}, fault.NotFoundf("group %s not found", id)
	}
	return g, nil
}

func (s *Service) withMembers(ctx context.Context, gs []store.Group) ([]Group, error) {
	out := make([]Group, 0, len(gs))
	if len(gs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	ms, err := s.store.Memberships(ctx, ids)
	if err != nil {
		return nil, err
	}
	members := map[int64][]Member{}
	for _, m := range ms {
		members[m.GroupID] = append(members[m.GroupID], Member{UUID: m.UserUUID, Name: m.UserName})
	}
	for _, g := range gs {
		out = append(out, toGroup(g, members[g.ID]))
	}
	return out, nil
}

// AddMember adds a user to a group; only admins may. A member stays a member.
func (s *Service) AddMember(ctx context.Context, by Principal, groupID, userID string) error {
	if err := requireAdmin(by, "change group members"); err != nil {
		return err
	}
	g, u, err := s.groupAndUser(ctx, groupID, userID)
	if err != nil {
		return err
	}
	return s.store.AddMember(ctx, g.ID, u.ID)
}

// RemoveMember removes a user from a group; only admins may. A user cannot
// leave their default group.
func (s *Service) RemoveMember(ctx context.Context, by Principal, groupID, userID string) error {
	if err := requireAdmin(by, "change group members"); err != nil {
		return err
	}
	g, u, err := s.groupAndUser(ctx, groupID, userID)
	if err != nil {
		return err
	}
	if g.PersonalUserID != nil && *g.PersonalUserID == u.ID {
		return fault.Conflictf("group %s is the default group of user %s, who stays its member", g.Name, u.Name)
	}
	if err := s.store.RemoveMember(ctx, g.ID, u.ID); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return fault.NotFoundf("user %s is not a member of group %s", u.Name, g.Name)
		}
		return err
	}
	return nil
}

func (s *Service) groupAndUser(ctx context.Context, groupID, userID string) (store.Group, store.User, error) {
	g, err := s.store.GroupByUUID(ctx, groupID)
	if err != nil {
		return store.Group{}, store.User{}, err
	}
	u, err := s.store.UserByUUID(ctx, userID)
	if err != nil {
		return store.Group{}, store.User{}, err
	}
	return g, u, nil
}

// GroupFor resolves the group a request acts in: the group named by a
// FOSSology-style groupName header, or the principal's default group when the
// name is empty. A group the principal is not a member of is refused (admins
// may act in any group), with the same answer whether or not it exists.
func (s *Service) GroupFor(ctx context.Context, by Principal, name string) (Group, error) {
	var (
		g   store.Group
		err error
	)
	if name == "" {
		g, err = s.store.PersonalGroup(ctx, by.User.ID)
	} else {
		g, err = s.store.GroupByName(ctx, name)
	}
	notMember := fault.New(fault.ErrForbidden, fmt.Sprintf("you are not a member of group %q", name))
	if errors.Is(err, fault.ErrNotFound) {
		if name == "" {
			return Group{}, fault.Conflictf("user %s has no default group", by.User.Name)
		}
		return Group{}, notMember
	}
	if err != nil {
		return Group{}, err
	}
	if !by.Allows(ScopeAdmin) {
		in, err := s.store.IsMember(ctx, g.ID, by.User.ID)
		if err != nil {
			return Group{}, err
		}
		if !in {
			return Group{}, notMember
		}
	}
	return toGroup(g, nil), nil
}
