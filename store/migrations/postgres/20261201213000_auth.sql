-- Accounts shared by every API family: user UUIDs, email, full name and a disabled
-- flag; groups with members, a default (personal) group per user; token kinds.
ALTER TABLE users ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET uuid = gen_random_uuid()::text;
CREATE UNIQUE INDEX users_uuid ON users(uuid);

CREATE TABLE user_groups (
    id               BIGSERIAL PRIMARY KEY,
    uuid             TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL UNIQUE,
    personal_user_id BIGINT  UNIQUE REFERENCES users(id),
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE group_members (
    group_id   BIGINT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

-- Every existing user gets their default group, named after them.
INSERT INTO user_groups (uuid, name, personal_user_id, created_at)
SELECT gen_random_uuid()::text, name, id, created_at FROM users;
INSERT INTO group_members (group_id, user_id, created_at)
SELECT id, personal_user_id, created_at FROM user_groups;

ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'personal' CHECK (kind IN ('personal', 'jwt'));
