package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// Group is a set of users; resources of later families can belong to one.
type Group struct {
	ID   int64
	UUID string `gorm:"column:uuid"`
	Name string
	// PersonalUserID is the user whose default group this is; nil for a shared group.
	PersonalUserID *int64
	CreatedAt      time.Time
}

// TableName is the table of groups ("groups" is a keyword in SQL dialects).
func (Group) TableName() string { return "user_groups" }

// groupMember is one membership row.
type groupMember struct {
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

func (groupMember) TableName() string { return "group_members" }

// CreateGroup inserts g and sets its ID (and its UUID when empty); a taken name is a conflict.
func (s *Store) CreateGroup(ctx context.Context, g *Group) error {
	g.CreatedAt = s.Now()
	if g.UUID == "" {
		g.UUID = uuid.NewString()
	}
	return translate(s.db.WithContext(ctx).Create(g).Error, "group "+g.Name)
}

// GroupByUUID returns the group with that UUID.
func (s *Store) GroupByUUID(ctx context.Context, id string) (Group, error) {
	var g Group
	err := s.db.WithContext(ctx).Where("uuid = ?", id).Take(&g).Error
	return g, translate(err, "group "+id)
}

// GroupByName returns the group with that name.
func (s *Store) GroupByName(ctx context.Context, name string) (Group, error) {
	var g Group
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&g).Error
	return g, translate(err, "group "+name)
}

// PersonalGroup returns the default group of a user.
func (s *Store) PersonalGroup(ctx context.Context, userID int64) (Group, error) {
	var g Group
	err := s.db.WithContext(ctx).Where("personal_user_id = ?", userID).Take(&g).Error
	return g, translate(err, "default group")
}

// Groups lists every group by name.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	var gs []Group
	err := s.db.WithContext(ctx).Order("name").Find(&gs).Error
	return gs, translate(err, "groups")
}

// GroupsOf lists the groups a user is a member of, by name.
func (s *Store) GroupsOf(ctx context.Context, userID int64) ([]Group, error) {
	var gs []Group
	err := s.db.WithContext(ctx).
		Joins("JOIN group_members m ON m.group_id = user_groups.id").
		Where("m.user_id = ?", userID).Order("user_groups.name").Find(&gs).Error
	return gs, translate(err, "groups")
}

// AddMember makes a user a member of a group; a member already is one.
func (s *Store) AddMember(ctx context.Context, groupID, userID int64) error {
	m := groupMember{GroupID: groupID, UserID: userID, CreatedAt: s.Now()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error
	return translate(err, "group member")
}

// RemoveMember ends a membership; a user who is not a member is not found.
func (s *Store) RemoveMember(ctx context.Context, groupID, userID int64) error {
	res := s.db.WithContext(ctx).Where("group_id = ? AND user_id = ?", groupID, userID).Delete(&groupMember{})
	if res.Error != nil {
		return translate(res.Error, "group member")
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "group member")
	}
	return nil
}

// IsMember reports whether a user is a member of a group.
func (s *Store) IsMember(ctx context.Context, groupID, userID int64) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&groupMember{}).Where("group_id = ? AND user_id = ?", groupID, userID).Count(&n).Error
	return n > 0, translate(err, "group member")
}

// Membership is one user in one group, with both names.
type Membership struct {
	GroupID   int64
	GroupName string
	UserID    int64
	UserUUID  string
	UserName  string
	// PersonalUserID is the user whose default group the group is, if any.
	PersonalUserID *int64
}

// Memberships lists the memberships of the given groups (nil: of every group),
// by group and user name.
func (s *Store) Memberships(ctx context.Context, groupIDs []int64) ([]Membership, error) {
	var out []Membership
	q := s.db.WithContext(ctx).Table("group_members m").
		Select("m.group_id, g.name AS group_name, m.user_id, u.uuid AS user_uuid, u.name AS user_name, g.personal_user_id").
		Joins("JOIN user_groups g ON g.id = m.group_id").
		Joins("JOIN users u ON u.id = m.user_id")
	if groupIDs != nil {
		q = q.Where("m.group_id IN ?", groupIDs)
	}
	err := q.Order("g.name, u.name").Scan(&out).Error
	return out, translate(err, "group members")
}

// MembershipsOfUsers lists the memberships of the given users, by group name.
func (s *Store) MembershipsOfUsers(ctx context.Context, userIDs []int64) ([]Membership, error) {
	var out []Membership
	err := s.db.WithContext(ctx).Table("group_members m").
		Select("m.group_id, g.name AS group_name, m.user_id, u.uuid AS user_uuid, u.name AS user_name, g.personal_user_id").
		Joins("JOIN user_groups g ON g.id = m.group_id").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.user_id IN ?", userIDs).Order("g.name").Scan(&out).Error
	return out, translate(err, "group members")
}
